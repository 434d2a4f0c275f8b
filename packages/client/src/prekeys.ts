/**
 * This device's prekeys: made, stored privately, published, and found again by id when a peer
 * starts a session (SPEC KEYS-*, PQXDH-3).
 * @module
 */
import {
  generateOneTimePreKeys,
  generatePqPreKey,
  generateSignedPreKey,
  type DeviceIdentity,
  type OneTimePreKey,
  type PqPreKey,
  type SignedPreKey,
} from '@pairwise/crypto/keys';
import type { PreKeySource } from '@pairwise/crypto/session';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { PreKeyUploadSchema } from '@pairwise/protocol/wire';
import { StoreTable, type ClientStore } from './client-store.js';

/** How many one-time prekeys a device publishes at a time. */
export const ONE_TIME_PREKEY_BATCH = 100;

const NEXT_ID = 'next-one-time-id';

/** Makes the first signed, ML-KEM and one-time prekeys, stores them and returns the upload. */
export async function makeInitialPreKeys(
  store: ClientStore,
  device: DeviceIdentity,
): Promise<MessageInitShape<typeof PreKeyUploadSchema>> {
  const extractable = store.needsExtractableKeys;
  const [signed, pq] = await Promise.all([generateSignedPreKey(device, 1, { extractable }), generatePqPreKey(device, 1)]);
  await store.put(StoreTable.PreKeys, `signed:${signed.id}`, signed);
  await store.put(StoreTable.PreKeys, `pq:${pq.id}`, pq);
  return {
    signedPreKey: { id: signed.id, publicKey: signed.keyPair.publicKey, signature: signed.signature },
    pqPreKey: { id: pq.id, publicKey: pq.keyPair.publicKey, signature: pq.signature },
    oneTimePreKeys: await makeOneTimePreKeys(store, ONE_TIME_PREKEY_BATCH),
  };
}

/** Makes and stores `count` new one-time prekeys; returns their public halves. */
export async function makeOneTimePreKeys(store: ClientStore, count: number) {
  const first = (await store.get<number>(StoreTable.PreKeys, NEXT_ID)) ?? 1;
  const keys = await generateOneTimePreKeys(first, count, { extractable: store.needsExtractableKeys });
  for (const key of keys) await store.put(StoreTable.PreKeys, `one-time:${key.id}`, key);
  await store.put(StoreTable.PreKeys, NEXT_ID, first + count);
  return keys.map((key) => ({ id: key.id, publicKey: key.keyPair.publicKey }));
}

/** Looks prekeys up by id for `Session.accept`. */
export function preKeySource(store: ClientStore): PreKeySource {
  return {
    signedPreKey: async (id) => (await store.get<SignedPreKey>(StoreTable.PreKeys, `signed:${id}`)) ?? null,
    pqPreKey: async (id) => (await store.get<PqPreKey>(StoreTable.PreKeys, `pq:${id}`)) ?? null,
    oneTimePreKey: async (id) => (await store.get<OneTimePreKey>(StoreTable.PreKeys, `one-time:${id}`)) ?? null,
  };
}

/** Deletes a one-time prekey once a session used it: it must never serve twice. */
export async function deleteOneTimePreKey(store: ClientStore, id: number): Promise<void> {
  await store.delete(StoreTable.PreKeys, `one-time:${id}`);
}
