// The prekey table under concurrent changes (SPEC PREKEYS-1, PREKEYS-2): a rotation and a
// replenishment made side by side never give two keys the same id.
import { generateDeviceIdentity } from '@pairwise/crypto/keys';
import { SIGNED_PREKEY_ROTATION_MS } from '@pairwise/protocol/limits';
import { describe, expect, it } from 'vitest';
import { StoreTable } from './client-store.js';
import { MemoryStore } from './memory-store.js';
import { duePreKeyRotation, makeInitialPreKeys, makeOneTimePreKeys, makePqOneTimePreKeys } from './prekeys.js';

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
