// The prekey table under concurrent changes (SPEC PREKEYS-1, PREKEYS-2): a rotation and a
// replenishment made side by side never give two keys the same id. One-time private keys the
// server handed out go, but for a grace set of the last ones (SPEC PREKEYS-5): after a drain, with
// counts made while an upload was on its way, with an upload whose answer was lost, and through a
// client and a server that hands out bundles, where first messages from recent bundles still open.
import { randomBytes } from '@pairwise/crypto/bytes';
import { generateDeviceIdentity } from '@pairwise/crypto/keys';
import type { PreKeyBundle } from '@pairwise/crypto/pqxdh';
import { Session } from '@pairwise/crypto/session';
import { PQ_PREKEYS_LOW_THRESHOLD, PREKEYS_LOW_THRESHOLD, SIGNED_PREKEY_ROTATION_MS } from '@pairwise/protocol/limits';
import type { Register, UploadPreKeys } from '@pairwise/protocol/wire';
import { describe, expect, it } from 'vitest';
import { StoreTable, type ClientStore } from './client-store.js';
import { encodeContent } from './content.js';
import { MemoryStore } from './memory-store.js';
import { PairwiseClient } from './pairwise-client.js';
import {
  acceptedPreKeys,
  duePreKeyRotation,
  makeInitialPreKeys,
  makeOneTimePreKeys,
  makePqOneTimePreKeys,
  ONE_TIME_PREKEY_BATCH,
  ONE_TIME_PREKEY_GRACE,
  PQ_ONE_TIME_PREKEY_BATCH,
  PQ_ONE_TIME_PREKEY_GRACE,
  preKeysAccepted,
  prunePreKeys,
  type PreKeyCounts,
  type PreKeyUpload,
} from './prekeys.js';
import { makeFakeAccount } from './test-support/fake-accounts.js';
import { FAKE_ORIGIN, FakeServer } from './test-support/fake-server.js';

const T0 = 1_790_000_000_000;

describe('[PREKEYS-1] [PREKEYS-2] prekey ids under concurrent changes', () => {
  it('batches and a rotation made at once take distinct ids, and every key the uploads name is the one stored', async () => {
    const store = new MemoryStore();
    const device = await generateDeviceIdentity();
    await makeInitialPreKeys(store, device, T0);
    const [pqA, pqB, rotation, oneA, oneB] = await Promise.all([
      makePqOneTimePreKeys(store, device, 5),
      makePqOneTimePreKeys(store, device, 5),
      duePreKeyRotation(store, device, T0 + SIGNED_PREKEY_ROTATION_MS),
      makeOneTimePreKeys(store, 10),
      makeOneTimePreKeys(store, 10),
    ]);
    const pqIds = [...pqA, ...pqB, rotation!.pqPreKey!].map((key) => key.id);
    expect(new Set(pqIds).size).toBe(pqIds.length);
    const oneTimeIds = [...oneA, ...oneB].map((key) => key.id);
    expect(new Set(oneTimeIds).size).toBe(oneTimeIds.length);
    for (const key of [...pqA, ...pqB, rotation!.pqPreKey!]) {
      const stored = await store.get<{ keyPair: { publicKey: Uint8Array } }>(StoreTable.PreKeys, `pq:${key.id}`);
      expect([...stored!.keyPair.publicKey]).toEqual([...key.publicKey!]);
    }
    for (const key of [...oneA, ...oneB]) {
      const stored = await store.get<{ keyPair: { publicKey: Uint8Array } }>(StoreTable.PreKeys, `one-time:${key.id}`);
      expect([...stored!.keyPair.publicKey]).toEqual([...key.publicKey]);
    }
  });
});

type PublicKey = { readonly id: number; readonly publicKey: Uint8Array; readonly signature: Uint8Array | undefined };

/**
 * One device's prekeys as a server keeps them (PREKEYS-1): one-time ones of each kind handed out
 * lowest id first, each once; the last-resort ML-KEM prekey when no one-time one is left.
 */
class Shelf {
  private readonly oneTime = new Map<number, PublicKey>();
  private readonly pq = new Map<number, PublicKey>();
  private signed: PublicKey | null = null;
  private lastResort: PublicKey | null = null;
  identity: { signingKey: Uint8Array; agreementKey: Uint8Array } | null = null;
  /** Uploads stored so far. */
  uploads = 0;

  upload(upload: PreKeyUpload): PreKeyCounts {
    const key = (k: { id?: number; publicKey?: Uint8Array; signature?: Uint8Array }): PublicKey => ({ id: k.id!, publicKey: k.publicKey!, signature: k.signature });
    if (upload.signedPreKey) this.signed = key(upload.signedPreKey);
    if (upload.pqPreKey) this.lastResort = key(upload.pqPreKey);
    for (const k of upload.oneTimePreKeys ?? []) this.oneTime.set(k.id!, key(k));
    for (const k of upload.pqOneTimePreKeys ?? []) this.pq.set(k.id!, key(k));
    this.uploads += 1;
    return this.counts;
  }

  get counts(): PreKeyCounts {
    return { oneTimePreKeys: this.oneTime.size, pqOneTimePreKeys: this.pq.size };
  }

  /** Takes a bundle, as FetchBundles does. */
  take(): PreKeyBundle {
    const lowest = (keys: Map<number, PublicKey>) => {
      if (keys.size === 0) return null;
      const id = Math.min(...keys.keys());
      const taken = keys.get(id)!;
      keys.delete(id);
      return taken;
    };
    const oneTime = lowest(this.oneTime);
    const pq = lowest(this.pq) ?? this.lastResort!;
    return {
      identity: this.identity!,
      signedPreKey: { id: this.signed!.id, publicKey: this.signed!.publicKey, signature: this.signed!.signature! },
      pqPreKey: { id: pq.id, publicKey: pq.publicKey, signature: pq.signature! },
      oneTimePreKey: oneTime && { id: oneTime.id, publicKey: oneTime.publicKey },
    };
  }
}

/** Ids of the one-time private keys of each kind the store holds. */
async function heldIds(store: ClientStore): Promise<{ oneTime: number[]; pq: number[] }> {
  const oneTime = (await store.list(StoreTable.PreKeys, 'one-time:')).map(([key]) => Number(key.slice('one-time:'.length)));
  const pq = (await store.list<{ oneTime: boolean }>(StoreTable.PreKeys, 'pq:'))
    .filter(([, key]) => key.oneTime)
    .map(([key]) => Number(key.slice('pq:'.length)));
  return { oneTime: oneTime.sort((a, b) => a - b), pq: pq.sort((a, b) => a - b) };
}

const range = (first: number, last: number) => Array.from({ length: last - first + 1 }, (_, i) => first + i);

/** A device and its server: the initial upload, then whole cycles of bundles taken and batches accepted. */
async function deviceWithServer() {
  const store = new MemoryStore();
  const device = await generateDeviceIdentity();
  const shelf = new Shelf();
  shelf.upload(await makeInitialPreKeys(store, device, T0));
  /** Takes bundles until the server would ask for more X25519 prekeys. */
  const drainToLow = () => {
    while (shelf.counts.oneTimePreKeys >= PREKEYS_LOW_THRESHOLD) shelf.take();
  };
  /** Uploads a batch of one-time X25519 prekeys the way the client does, and returns it. */
  const accept = async (batch: PreKeyUpload) => {
    const before = await acceptedPreKeys(store);
    await preKeysAccepted(store, batch, before, shelf.upload(batch));
    return batch;
  };
  const cycle = async () => {
    drainToLow();
    return accept({ oneTimePreKeys: await makeOneTimePreKeys(store, ONE_TIME_PREKEY_BATCH) });
  };
  return { store, device, shelf, drainToLow, accept, cycle };
}

describe('[PREKEYS-5] handed-out one-time private keys go, but for a grace set', () => {
  it('after a drain of 600 bundles the device holds only what the server has plus the grace set of each kind; signed and last-resort prekeys stay', async () => {
    const { store, device, shelf } = await deviceWithServer();
    const upload = async (batch: PreKeyUpload) => preKeysAccepted(store, batch, await acceptedPreKeys(store), shelf.upload(batch));
    for (let taken = 0; taken < 600; taken++) {
      shelf.take();
      // A rotation halfway: its last-resort ML-KEM prekey takes an id among the one-time ones.
      if (taken === 300) {
        const rotation = (await duePreKeyRotation(store, device, T0 + SIGNED_PREKEY_ROTATION_MS))!;
        await upload(rotation);
      }
      const { oneTimePreKeys, pqOneTimePreKeys } = shelf.counts;
      if (oneTimePreKeys < PREKEYS_LOW_THRESHOLD) await upload({ oneTimePreKeys: await makeOneTimePreKeys(store, ONE_TIME_PREKEY_BATCH) });
      if (pqOneTimePreKeys < PQ_PREKEYS_LOW_THRESHOLD) await upload({ pqOneTimePreKeys: await makePqOneTimePreKeys(store, device, PQ_ONE_TIME_PREKEY_BATCH) });
    }
    // The next connection's count (Authenticated).
    await prunePreKeys(store, await acceptedPreKeys(store), shelf.counts);
    const held = await heldIds(store);
    // Before PREKEYS-5 the device kept all it made: 700 X25519 and 625 ML-KEM ones here.
    expect(held.oneTime).toHaveLength(shelf.counts.oneTimePreKeys + ONE_TIME_PREKEY_GRACE);
    expect(held.pq).toHaveLength(shelf.counts.pqOneTimePreKeys + PQ_ONE_TIME_PREKEY_GRACE);
    // The newest ones: everything still on the server, and the last handed out.
    const nextOneTime = (await store.get<number>(StoreTable.PreKeys, 'next-one-time-id'))!;
    expect(held.oneTime).toEqual(range(nextOneTime - held.oneTime.length, nextOneTime - 1));
    expect(nextOneTime).toBe(701);
    for (const key of ['signed:1', 'signed:2', 'pq:1']) expect(await store.get(StoreTable.PreKeys, key)).toBeDefined();
    const rotation = (await store.get<{ pqId: number }>(StoreTable.PreKeys, 'rotation'))!;
    expect(rotation.pqId).toBeLessThan(held.pq[0]!);
    expect(await store.get(StoreTable.PreKeys, `pq:${rotation.pqId}`)).toMatchObject({ oneTime: false });
  }, 120_000);

  it('a count made while an upload was on its way keeps that upload and the grace set the count knew of', async () => {
    const { store, shelf, cycle, drainToLow } = await deviceWithServer();
    for (let i = 0; i < 4; i++) await cycle();
    drainToLow();
    const onServer = (await heldIds(store)).oneTime.filter((id) => id > 500 - shelf.counts.oneTimePreKeys);
    expect(onServer).toEqual(range(482, 500));
    // An Authenticate is sent on a new connection, and a batch is uploaded on its way ...
    const beforeCount = await acceptedPreKeys(store);
    const batch: PreKeyUpload = { oneTimePreKeys: await makeOneTimePreKeys(store, ONE_TIME_PREKEY_BATCH) };
    const beforeUpload = await acceptedPreKeys(store);
    // ... senders take the rest, and the server counts nothing left before the upload lands.
    while (shelf.counts.oneTimePreKeys > 0) shelf.take();
    const stale = shelf.counts;
    await prunePreKeys(store, beforeCount, stale);
    // The keys on their way stay, and so do the 200 handed out last (301..500).
    expect((await heldIds(store)).oneTime).toEqual(range(301, 600));
    // The upload lands and is answered; a second answer counted before it arrives after.
    await preKeysAccepted(store, batch, beforeUpload, shelf.upload(batch));
    expect((await heldIds(store)).oneTime).toEqual(range(301, 600));
    await prunePreKeys(store, beforeCount, stale);
    expect((await heldIds(store)).oneTime).toEqual(range(301, 600));
  });

  it('an upload whose answer was lost keeps its keys while the server may hold them, and loses them once enough accepted ones lie above', async () => {
    const { store, shelf, cycle, drainToLow } = await deviceWithServer();
    for (let i = 0; i < 3; i++) await cycle();
    drainToLow();
    // 401..500: stored by the server, but the answer never came.
    shelf.upload({ oneTimePreKeys: await makeOneTimePreKeys(store, ONE_TIME_PREKEY_BATCH) });
    for (let i = 0; i < 3; i++) {
      await cycle();
      const held = (await heldIds(store)).oneTime;
      expect(range(401, 500).every((id) => held.includes(id))).toBe(true);
    }
    for (let i = 0; i < 3; i++) await cycle();
    const held = (await heldIds(store)).oneTime;
    expect(held.some((id) => id <= 500)).toBe(false);
    expect(held.length).toBeLessThanOrEqual(shelf.counts.oneTimePreKeys + ONE_TIME_PREKEY_GRACE);
  });

  it('through a client: after a drain a first message from a recent bundle opens, one from a bundle far older than the grace set does not', async () => {
    const server = new FakeServer();
    let clock = server.now();
    const shelf = new Shelf();
    server.on('register', (value) => {
      const body = value as Register;
      shelf.identity = { signingKey: body.identity!.signingKey, agreementKey: body.identity!.agreementKey };
      shelf.upload(body.preKeys!);
      server.accounts.set(body.username, {
        accountId: body.username,
        accountKey: body.accountKey,
        deviceList: body.deviceList!,
        deviceIds: [body.deviceId],
        attestations: [{ deviceId: body.deviceId, signature: body.attestation }],
      });
      return { case: 'registered', value: { accountId: body.username } };
    });
    server.on('authenticate', () => ({ case: 'authenticated', value: { serverTime: clock, ...shelf.counts, attested: true } }));
    server.on('uploadPreKeys', (value) => ({ case: 'preKeyStatus', value: shelf.upload((value as UploadPreKeys).preKeys!) }));
    const [recentSender, oldSender] = await Promise.all([makeFakeAccount('carol', clock), makeFakeAccount('dave', clock)]);
    server.accounts.set('carol', recentSender.report);
    server.accounts.set('dave', oldSender.report);
    server.self = 'alice';
    const store = new MemoryStore();
    const alice = await PairwiseClient.createAccount({
      origin: FAKE_ORIGIN,
      url: 'ws://fake/ws',
      socketFactory: server.socketFactory,
      store,
      username: 'alice',
      now: () => clock,
      deliveryReceipts: false,
    });
    await alice.ready();
    const texts: string[] = [];
    const failed: string[] = [];
    alice.on('message', (message) => texts.push(message.text));
    alice.on('decrypt-failed', (failure) => failed.push(failure.senderAccountId));

    // Bundles taken, no message ever sent; the server asks for more whenever either kind runs low.
    const bundles: PreKeyBundle[] = [];
    for (let taken = 0; taken < 600; taken++) {
      bundles.push(shelf.take());
      const { oneTimePreKeys: remaining, pqOneTimePreKeys: pqRemaining } = shelf.counts;
      if (remaining >= PREKEYS_LOW_THRESHOLD && pqRemaining >= PQ_PREKEYS_LOW_THRESHOLD) continue;
      // Past the time the client takes a "low" notice as stale after a replenishment.
      clock += 61_000;
      const uploads = shelf.uploads;
      // As a server would, at every bundle taken while low.
      await until(() => {
        if (shelf.uploads === uploads) server.push({ body: { case: 'preKeysLow', value: { remaining, pqRemaining } } });
        return shelf.uploads > uploads;
      });
    }
    // The next connection's count (Authenticated) lets go of what was handed out since the last upload.
    server.dropConnections();
    const bounded = async () => {
      const held = await heldIds(store);
      return (
        held.oneTime.length <= shelf.counts.oneTimePreKeys + ONE_TIME_PREKEY_GRACE && held.pq.length <= shelf.counts.pqOneTimePreKeys + PQ_ONE_TIME_PREKEY_GRACE
      );
    };
    await until(bounded);
    expect(await bounded()).toBe(true);
    // Before PREKEYS-5 the device would hold every one it made.
    expect(await store.get(StoreTable.PreKeys, 'next-one-time-id')).toBeGreaterThan(700);

    const recent = bundles[bundles.length - 20]!;
    const old = bundles[0]!;
    expect(old.oneTimePreKey?.id).toBe(1);
    expect(await store.get(StoreTable.PreKeys, 'one-time:1')).toBeUndefined();
    expect(await store.get(StoreTable.PreKeys, `pq:${old.pqPreKey.id}`)).toBeUndefined();
    let seq = 0;
    const firstMessage = async (from: typeof recentSender, bundle: PreKeyBundle, text: string) => {
      const binding = { local: { accountId: from.accountId, deviceId: from.deviceId }, remote: { accountId: 'alice', deviceId: alice.deviceId } };
      const session = (await Session.initiate(from.device, bundle, binding))!;
      const messageId = randomBytes(16);
      const content = await session.encrypt(
        encodeContent({ messageId, sentAt: clock, senderAccountId: from.accountId, senderDeviceId: from.deviceId, body: { case: 'text', value: { body: text } } }),
      );
      const item = { case: 'message', value: { senderAccountId: from.accountId, senderDeviceId: from.deviceId, clientMessageId: messageId, content } } as const;
      server.push({ body: { case: 'deliver', value: { seq: ++seq, serverTime: clock, item } } });
    };
    await firstMessage(oldSender, old, 'from the first bundle');
    await firstMessage(recentSender, recent, 'from a recent bundle');
    await until(() => texts.length > 0 && failed.length > 0);
    expect(texts).toEqual(['from a recent bundle']);
    expect(failed).toEqual(['dave']);
    await alice.close();
  }, 180_000);
});

/** Waits until `done` holds (checked every 10 ms), for at most 20 s. */
async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await done()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}
