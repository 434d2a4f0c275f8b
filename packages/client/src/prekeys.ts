/**
 * This device's prekeys: made, stored privately, published, rotated, found again by id when a peer
 * starts a session, and deleted once they may no longer serve (SPEC KEYS-*, PQXDH-3, PREKEYS-2).
 *
 * Store keys in the `prekeys` table:
 * - "signed:<id>": signed X25519 prekeys; "one-time:<id>": one-time X25519 prekeys;
 * - "pq:<id>": ML-KEM prekeys, the last-resort one and the one-time ones in one id space, since
 *   an initiation names an ML-KEM prekey by its id alone;
 * - "next-one-time-id", "next-pq-id": id counters; "rotation": which signed and last-resort keys
 *   are current, since when, and which were replaced when.
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
import { PREKEY_GRACE_MS, SIGNED_PREKEY_ROTATION_MS } from '@pairwise/protocol/limits';
import type { PreKeyUploadSchema } from '@pairwise/protocol/wire';
import { StoreTable, type ClientStore } from './client-store.js';

/** How many one-time X25519 prekeys a device publishes at a time. */
export const ONE_TIME_PREKEY_BATCH = 100;
/**
 * How many one-time ML-KEM prekeys a device publishes at a time: fewer than X25519 ones, each is
 * 1.2 KB and costs a key generation in JavaScript.
 */
export const PQ_ONE_TIME_PREKEY_BATCH = 25;

/** A prekey upload as the wire carries it. */
export type PreKeyUpload = MessageInitShape<typeof PreKeyUploadSchema>;

/** An ML-KEM prekey as stored: one-time ones are deleted after one use, the last-resort one is not. */
interface StoredPqPreKey extends PqPreKey {
  readonly oneTime: boolean;
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
  return {
    signedPreKey: signedPreKeyPublic(signed),
    pqPreKey: signedPreKeyPublic(pq),
    oneTimePreKeys: await oneTimePreKeys(store, ONE_TIME_PREKEY_BATCH),
    pqOneTimePreKeys: await pqOneTimePreKeys(store, device, PQ_ONE_TIME_PREKEY_BATCH),
  };
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
