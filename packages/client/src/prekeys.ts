/**
 * This device's prekeys: made, stored privately, published, rotated, found again by id when a peer
 * starts a session, and deleted once they may no longer serve (SPEC KEYS-*, PQXDH-3, PREKEYS-2).
 *
 * Store keys in the `prekeys` table:
 * - "signed:<id>": signed X25519 prekeys; "one-time:<id>": one-time X25519 prekeys;
 * - "pq:<id>": ML-KEM prekeys, the last-resort one and the one-time ones in one id space, since
 *   an initiation names an ML-KEM prekey by its id alone;
 * - "next-one-time-id", "next-pq-id": id counters; "rotation": which signed and last-resort keys
 *   are current, since when, and which were replaced when;
 * - "accepted": which one-time prekey ids the server is known to have accepted, and below which id
 *   the one-time private keys handed out long ago are gone.
 * @module
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  generateOneTimePreKeys,
  generatePqPreKey,
  generateSignedPreKey,
  signedPreKeyPublic,
  type DeviceIdentity,
  type OneTimePreKey,
  type PqPreKey,
  type SignedPreKey,
} from '@pairwise/crypto/keys';
import type { PreKeySource, UsedPreKeys } from '@pairwise/crypto/session';
import { KeyedMutex } from '@pairwise/protocol/keyed-mutex';
import { MAX_ONE_TIME_PREKEYS, MAX_PQ_ONE_TIME_PREKEYS, PREKEY_GRACE_MS, SIGNED_PREKEY_ROTATION_MS } from '@pairwise/protocol/limits';
import type { PreKeyUploadSchema } from '@pairwise/protocol/wire';
import { StoreTable, type ClientStore } from './client-store.js';

/** How many one-time X25519 prekeys a device publishes at a time. */
export const ONE_TIME_PREKEY_BATCH = 100;
/**
 * How many one-time ML-KEM prekeys a device publishes at a time: fewer than X25519 ones, each is
 * 1.2 KB and costs a key generation in JavaScript.
 */
export const PQ_ONE_TIME_PREKEY_BATCH = 25;
/**
 * How many one-time X25519 prekeys handed out last a device keeps beyond those still on the server
 * (SPEC PREKEYS-5): their senders' first messages may still wait in the inbox. While a device is
 * away, senders can take at most what the server held for it, which is never more than
 * MAX_ONE_TIME_PREKEYS (KEYS-1); a grace set that large keeps every key handed out while it was
 * away until it is back and reads its inbox. X25519 keys are small: this costs little disk.
 */
export const ONE_TIME_PREKEY_GRACE = MAX_ONE_TIME_PREKEYS;
/**
 * The same for one-time ML-KEM prekeys (about 3.6 KB each, private and public half): as many as the
 * server may hold, MAX_PQ_ONE_TIME_PREKEYS. A first message names one key of each kind and needs
 * both, so a smaller ML-KEM grace set would lose the first messages the X25519 one keeps.
 */
export const PQ_ONE_TIME_PREKEY_GRACE = MAX_PQ_ONE_TIME_PREKEYS;

/** A prekey upload as the wire carries it. */
export type PreKeyUpload = MessageInitShape<typeof PreKeyUploadSchema>;

/** An ML-KEM prekey as stored: one-time ones are deleted after one use, the last-resort one is not. */
interface StoredPqPreKey extends PqPreKey {
  readonly oneTime: boolean;
}

/** A run of consecutive prekey ids, both ends included. */
type IdRange = readonly [first: number, last: number];

/** What the device knows of one kind of its one-time prekeys on the server. */
interface AcceptedKind {
  /** Ids of the uploads the server is known to have accepted, ascending, disjoint. */
  readonly ids: readonly IdRange[];
  /** Every one-time private key of this kind below this id has been deleted. */
  readonly prunedBelow: number;
}

/**
 * The one-time prekeys the server is known to have accepted, by kind: what `prunePreKeys` reads a
 * count of the server's against (SPEC PREKEYS-5). Take it before sending the request that the count
 * answers.
 */
export interface AcceptedPreKeys {
  readonly version: 1;
  readonly oneTime: AcceptedKind;
  readonly pq: AcceptedKind;
}

/** How many one-time prekeys of each kind the server says it holds (`Authenticated`, `PreKeyStatus`). */
export interface PreKeyCounts {
  readonly oneTimePreKeys: number;
  readonly pqOneTimePreKeys: number;
}

/** Which signed prekeys are current and which wait out their grace period. */
interface Rotation {
  readonly version: 1;
  readonly signedId: number;
  readonly pqId: number;
  /** When the current ones were made. */
  readonly rotatedAt: number;
  /** Whether the server has the current ones (an upload may have failed). */
  readonly uploaded: boolean;
  /** Store keys of replaced prekeys, with when they were replaced. */
  readonly retired: readonly { readonly key: string; readonly retiredAt: number }[];
}

const NEXT_ONE_TIME_ID = 'next-one-time-id';
const NEXT_PQ_ID = 'next-pq-id';
const ROTATION = 'rotation';
const ACCEPTED = 'accepted';

/**
 * Changes to one store's prekey table run one at a time: id counters are read, then written
 * (two batches made side by side, a rotation and a replenishment, would otherwise share ids and
 * one key would overwrite another the server already has).
 */
const tables = new WeakMap<ClientStore, KeyedMutex>();

function changing<T>(store: ClientStore, change: () => Promise<T>): Promise<T> {
  let mutex = tables.get(store);
  if (mutex === undefined) {
    mutex = new KeyedMutex();
    tables.set(store, mutex);
  }
  return mutex.run('prekeys', change);
}

const signedKey = (id: number) => `signed:${id}`;
const pqKey = (id: number) => `pq:${id}`;
const oneTimeKey = (id: number) => `one-time:${id}`;
const ONE_TIME_PREFIX = 'one-time:';
const PQ_PREFIX = 'pq:';

/** Makes the first signed, ML-KEM and one-time prekeys, stores them and returns the upload. */
export function makeInitialPreKeys(store: ClientStore, device: DeviceIdentity, now: number): Promise<PreKeyUpload> {
  return changing(store, () => initialPreKeys(store, device, now));
}

async function initialPreKeys(store: ClientStore, device: DeviceIdentity, now: number): Promise<PreKeyUpload> {
  const extractable = store.needsExtractableKeys;
  const [signed, pq] = await Promise.all([generateSignedPreKey(device, 1, { extractable }), generatePqPreKey(device, 1)]);
  await store.put(StoreTable.PreKeys, signedKey(signed.id), signed);
  await store.put<StoredPqPreKey>(StoreTable.PreKeys, pqKey(pq.id), { ...pq, oneTime: false });
  await store.put(StoreTable.PreKeys, NEXT_PQ_ID, 2);
  await store.put<Rotation>(StoreTable.PreKeys, ROTATION, { version: 1, signedId: 1, pqId: 1, rotatedAt: now, uploaded: true, retired: [] });
  const upload = {
    signedPreKey: signedPreKeyPublic(signed),
    pqPreKey: signedPreKeyPublic(pq),
    oneTimePreKeys: await oneTimePreKeys(store, ONE_TIME_PREKEY_BATCH),
    pqOneTimePreKeys: await pqOneTimePreKeys(store, device, PQ_ONE_TIME_PREKEY_BATCH),
  };
  // Taken as accepted already: the server has the device only together with these prekeys
  // (Register, or ApproveLink of the link request that carried them), and the device sees no count
  // before it exists there. A new start: whatever an earlier attempt left in this store was never
  // this device's.
  const none: AcceptedKind = { ids: [], prunedBelow: 1 };
  await store.put(StoreTable.PreKeys, ACCEPTED, withUpload({ version: 1, oneTime: none, pq: none }, upload));
  return upload;
}

/** Makes and stores `count` new one-time X25519 prekeys; returns their public halves. */
export function makeOneTimePreKeys(store: ClientStore, count: number) {
  return changing(store, () => oneTimePreKeys(store, count));
}

async function oneTimePreKeys(store: ClientStore, count: number) {
  const first = (await store.get<number>(StoreTable.PreKeys, NEXT_ONE_TIME_ID)) ?? 1;
  const keys = await generateOneTimePreKeys(first, count, { extractable: store.needsExtractableKeys });
  for (const key of keys) await store.put(StoreTable.PreKeys, oneTimeKey(key.id), key);
  await store.put(StoreTable.PreKeys, NEXT_ONE_TIME_ID, first + count);
  return keys.map((key) => ({ id: key.id, publicKey: key.keyPair.publicKey }));
}

/** Makes and stores `count` new one-time ML-KEM prekeys, each signed; returns their public halves. */
export function makePqOneTimePreKeys(store: ClientStore, device: DeviceIdentity, count: number) {
  return changing(store, () => pqOneTimePreKeys(store, device, count));
}

async function pqOneTimePreKeys(store: ClientStore, device: DeviceIdentity, count: number) {
  const first = await nextPqId(store, count);
  const keys = await Promise.all(Array.from({ length: count }, (_, i) => generatePqPreKey(device, first + i)));
  for (const key of keys) await store.put<StoredPqPreKey>(StoreTable.PreKeys, pqKey(key.id), { ...key, oneTime: true });
  return keys.map(signedPreKeyPublic);
}

/** Reserves `count` ML-KEM prekey ids; returns the first. */
async function nextPqId(store: ClientStore, count: number): Promise<number> {
  // Stores made before one-time ML-KEM prekeys have only "pq:1".
  const first = (await store.get<number>(StoreTable.PreKeys, NEXT_PQ_ID)) ?? 2;
  await store.put(StoreTable.PreKeys, NEXT_PQ_ID, first + count);
  return first;
}

async function rotation(store: ClientStore): Promise<Rotation> {
  const stored = await store.get<Rotation>(StoreTable.PreKeys, ROTATION);
  // A store made before rotation existed: its keys are "signed:1" and "pq:1", of unknown age.
  return stored?.version === 1 ? stored : { version: 1, signedId: 1, pqId: 1, rotatedAt: 0, uploaded: true, retired: [] };
}

/**
 * The upload a device owes the server now, if any: new signed prekeys when the current ones are
 * SIGNED_PREKEY_ROTATION_MS old (made and stored here, the old ones retired), or the current ones
 * again when their upload did not go through. Also deletes retired prekeys past PREKEY_GRACE_MS.
 * Call `rotationUploaded` once the server accepted the upload.
 */
export function duePreKeyRotation(store: ClientStore, device: DeviceIdentity, now: number): Promise<PreKeyUpload | null> {
  return changing(store, () => dueRotation(store, device, now));
}

async function dueRotation(store: ClientStore, device: DeviceIdentity, now: number): Promise<PreKeyUpload | null> {
  let current = await rotation(store);
  const expired = current.retired.filter((retired) => now - retired.retiredAt >= PREKEY_GRACE_MS);
  for (const retired of expired) await store.delete(StoreTable.PreKeys, retired.key);
  if (expired.length > 0) {
    current = { ...current, retired: current.retired.filter((retired) => !expired.includes(retired)) };
    await store.put(StoreTable.PreKeys, ROTATION, current);
  }
  if (now - current.rotatedAt >= SIGNED_PREKEY_ROTATION_MS) {
    const signedId = current.signedId + 1;
    const pqId = await nextPqId(store, 1);
    const [signed, pq] = await Promise.all([
      generateSignedPreKey(device, signedId, { extractable: store.needsExtractableKeys }),
      generatePqPreKey(device, pqId),
    ]);
    await store.put(StoreTable.PreKeys, signedKey(signed.id), signed);
    await store.put<StoredPqPreKey>(StoreTable.PreKeys, pqKey(pq.id), { ...pq, oneTime: false });
    // The replaced ones stay for first messages already on their way to us.
    const retired = [...current.retired, { key: signedKey(current.signedId), retiredAt: now }, { key: pqKey(current.pqId), retiredAt: now }];
    current = { version: 1, signedId, pqId, rotatedAt: now, uploaded: false, retired };
    await store.put(StoreTable.PreKeys, ROTATION, current);
  }
  if (current.uploaded) return null;
  const [signed, pq] = await Promise.all([
    store.get<SignedPreKey>(StoreTable.PreKeys, signedKey(current.signedId)),
    store.get<StoredPqPreKey>(StoreTable.PreKeys, pqKey(current.pqId)),
  ]);
  if (signed === undefined || pq === undefined) return null;
  return { signedPreKey: signedPreKeyPublic(signed), pqPreKey: signedPreKeyPublic(pq) };
}

/** Records that the server holds the current signed prekeys. */
export function rotationUploaded(store: ClientStore): Promise<void> {
  return changing(store, async () => {
    const current = await rotation(store);
    if (!current.uploaded) await store.put<Rotation>(StoreTable.PreKeys, ROTATION, { ...current, uploaded: true });
  });
}

/** Looks prekeys up by id for `Session.accept`. */
export function preKeySource(store: ClientStore): PreKeySource {
  return {
    signedPreKey: async (id) => (await store.get<SignedPreKey>(StoreTable.PreKeys, signedKey(id))) ?? null,
    pqPreKey: async (id) => (await store.get<StoredPqPreKey>(StoreTable.PreKeys, pqKey(id))) ?? null,
    oneTimePreKey: async (id) => (await store.get<OneTimePreKey>(StoreTable.PreKeys, oneTimeKey(id))) ?? null,
  };
}

/** Deletes the one-time prekeys a session used: they must never serve twice (SPEC PQXDH-3). */
export function deleteUsedPreKeys(store: ClientStore, used: UsedPreKeys): Promise<void> {
  return changing(store, async () => {
    if (used.oneTimePreKeyId !== null) await store.delete(StoreTable.PreKeys, oneTimeKey(used.oneTimePreKeyId));
    const pq = await store.get<StoredPqPreKey>(StoreTable.PreKeys, pqKey(used.pqPreKeyId));
    if (pq?.oneTime === true) await store.delete(StoreTable.PreKeys, pqKey(used.pqPreKeyId));
  });
}

/**
 * What the server is known to have accepted of this device's one-time prekeys. Read it before
 * sending a request whose answer carries counts (`Authenticate`, `UploadPreKeys`), and hand it with
 * the counts to `prunePreKeys` or `preKeysAccepted`.
 */
export async function acceptedPreKeys(store: ClientStore): Promise<AcceptedPreKeys> {
  const stored = await store.get<AcceptedPreKeys>(StoreTable.PreKeys, ACCEPTED);
  // A store made before this record existed: nothing is known accepted, so nothing is pruned until
  // enough new uploads are; then the old keys go too.
  return stored?.version === 1 ? stored : { version: 1, oneTime: { ids: [], prunedBelow: 1 }, pq: { ids: [], prunedBelow: 1 } };
}

/**
 * Records that the server accepted `upload`, and, with the counts from its answer, deletes the
 * one-time private keys it handed out long ago (SPEC PREKEYS-5). `before` is `acceptedPreKeys` as
 * read before the upload was sent.
 */
export function preKeysAccepted(store: ClientStore, upload: PreKeyUpload, before: AcceptedPreKeys, counts: PreKeyCounts | null): Promise<void> {
  return changing(store, async () => {
    await store.put(StoreTable.PreKeys, ACCEPTED, withUpload(await acceptedPreKeys(store), upload));
    // The server counted in the transaction that stored the upload: the count includes it.
    if (counts !== null) await prune(store, withUpload(before, upload), counts);
  });
}

/**
 * Deletes the private halves of the one-time prekeys the server handed out, except the grace set of
 * those handed out last (SPEC PREKEYS-5). `counts` are the server's; `accepted` is `acceptedPreKeys`
 * as read before sending the request they answer. Never touches signed or last-resort prekeys.
 */
export function prunePreKeys(store: ClientStore, accepted: AcceptedPreKeys, counts: PreKeyCounts): Promise<void> {
  return changing(store, () => prune(store, accepted, counts));
}

/*
 * Which one-time prekeys the server still holds, from a count. The server hands out a device's
 * one-time prekeys of each kind lowest id first (PREKEYS-1) and this device numbers new ones
 * upwards, so the N it reports left are the N highest ids it had accepted when it counted, and
 * every lower id went to some sender.
 *
 * The device does not know everything the server had accepted at that moment: an upload may be
 * on its way, one whose answer was lost may have landed or not. It knows a part: the uploads whose
 * acceptance it had seen before it sent the request the count answers, plus, in an upload's own
 * answer, that upload (counted in the transaction that stored it). The N-th highest id of a part is
 * at most the N-th highest of the whole, so every key still on the server has at least that id,
 * and the GRACE ids of the part below it are keys handed out last (with any unknown ones between
 * them, kept too). So the floor is the (N + GRACE)-th highest id of the part, and only keys below it
 * go. A count made while an upload was on its way does not know it, and neither does the part: a
 * key of that upload has a higher id than every key the part holds, so above the floor, and the
 * keys the count found on the server are kept as well. Reading the record as it is when the count
 * arrives instead would take an upload accepted meanwhile as counted, and move the floor up by its
 * size. Keys of an upload whose answer never came are in no part: they go once enough accepted
 * ids lie above them, when they are handed out or were never there. (The one case this misses: an
 * upload whose request failed on the device yet was still being stored while later uploads, more
 * than a grace set of them, were accepted and counted. Each upload is one transaction, and the
 * device makes the next batch only after the previous one's answer or failure.)
 */
async function prune(store: ClientStore, accepted: AcceptedPreKeys, counts: PreKeyCounts): Promise<void> {
  const oneTimeFloor = nthHighest(accepted.oneTime.ids, counts.oneTimePreKeys + ONE_TIME_PREKEY_GRACE);
  const pqFloor = nthHighest(accepted.pq.ids, counts.pqOneTimePreKeys + PQ_ONE_TIME_PREKEY_GRACE);
  const current = await acceptedPreKeys(store);
  let { oneTime, pq } = current;
  if (oneTimeFloor > oneTime.prunedBelow) {
    for (const [key] of await store.list(StoreTable.PreKeys, ONE_TIME_PREFIX)) {
      if (idOf(key) < oneTimeFloor) await store.delete(StoreTable.PreKeys, key);
    }
    oneTime = prunedBelow(oneTime, oneTimeFloor);
  }
  if (pqFloor > pq.prunedBelow) {
    for (const [key, value] of await store.list<StoredPqPreKey>(StoreTable.PreKeys, PQ_PREFIX)) {
      // Last-resort ML-KEM prekeys share the id space; they leave only by rotation (PREKEYS-2).
      if (value.oneTime === true && idOf(key) < pqFloor) await store.delete(StoreTable.PreKeys, key);
    }
    pq = prunedBelow(pq, pqFloor);
  }
  if (oneTime !== current.oneTime || pq !== current.pq) await store.put<AcceptedPreKeys>(StoreTable.PreKeys, ACCEPTED, { version: 1, oneTime, pq });
}

const idOf = (key: string) => Number(key.slice(key.indexOf(':') + 1));

/** `accepted` with the one-time prekeys of `upload` added. */
function withUpload(accepted: AcceptedPreKeys, upload: PreKeyUpload): AcceptedPreKeys {
  const ids = (keys: readonly { id?: number }[] | undefined) => (keys ?? []).map((key) => key.id ?? 0).filter((id) => id > 0);
  return {
    version: 1,
    oneTime: { ...accepted.oneTime, ids: withIds(accepted.oneTime.ids, ids(upload.oneTimePreKeys)) },
    pq: { ...accepted.pq, ids: withIds(accepted.pq.ids, ids(upload.pqOneTimePreKeys)) },
  };
}

/** `ranges` with `ids` added, merged into ascending disjoint ranges. */
function withIds(ranges: readonly IdRange[], ids: readonly number[]): IdRange[] {
  if (ids.length === 0) return [...ranges];
  const all = [...ranges, ...ids.map((id): IdRange => [id, id])].sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [first, last] of all) {
    const top = merged.at(-1);
    if (top !== undefined && first <= top[1] + 1) top[1] = Math.max(top[1], last);
    else merged.push([first, last]);
  }
  return merged;
}

/** The `rank`-th highest id in `ranges` (the highest is 1st); 0 when they hold fewer. */
function nthHighest(ranges: readonly IdRange[], rank: number): number {
  let left = rank;
  for (let i = ranges.length - 1; i >= 0; i--) {
    const [first, last] = ranges[i]!;
    if (left <= last - first + 1) return last - left + 1;
    left -= last - first + 1;
  }
  return 0;
}

/** `kind` once every key below `floor` is deleted: ids below it no longer matter. */
function prunedBelow(kind: AcceptedKind, floor: number): AcceptedKind {
  const ids = kind.ids.filter(([, last]) => last >= floor).map(([first, last]): IdRange => [Math.max(first, floor), last]);
  return { ids, prunedBelow: floor };
}
