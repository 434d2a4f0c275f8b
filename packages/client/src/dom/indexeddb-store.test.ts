// The IndexedDB store against the ClientStore contract, in Chromium (the browser project only:
// Node has no IndexedDB), plus what only a database can get wrong.
import { describe, expect, it } from 'vitest';
import { StoreTable } from '../client-store.js';
import { describeClientStoreContract } from '../test-support/client-store-contract.js';
import { IndexedDbStore } from './indexeddb-store.js';

async function databaseNames(): Promise<string[]> {
  return (await indexedDB.databases()).map((database) => database.name ?? '');
}

describeClientStoreContract('IndexedDbStore', () => IndexedDbStore.open('contract'), { persistent: true });

describe('IndexedDbStore', () => {
  it('opens database pairwise-<name> with one object store per table', async () => {
    const store = await IndexedDbStore.open('layout');
    expect(store.needsExtractableKeys).toBe(false);
    await store.close();
    const request = indexedDB.open('pairwise-layout');
    const database = await new Promise<IDBDatabase>((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error('open failed'));
    });
    expect(Array.from(database.objectStoreNames).sort()).toEqual(Object.values(StoreTable).sort());
    database.close();
    await (await IndexedDbStore.open('layout')).wipe();
  });

  it('refuses a name that is not a non-empty string', async () => {
    await expect(IndexedDbStore.open('')).rejects.toThrow(/^name must be/);
  });

  it('[STORE-2] wipe deletes the database: indexedDB.databases() no longer lists it', async () => {
    const store = await IndexedDbStore.open('wiped');
    await store.put(StoreTable.Meta, 'k', 1);
    expect(await databaseNames()).toContain('pairwise-wiped');
    await store.wipe();
    expect(await databaseNames()).not.toContain('pairwise-wiped');
  });

  it('[STORE-2] wipe from one connection closes the others instead of waiting on them', async () => {
    const first = await IndexedDbStore.open('two-tabs');
    const second = await IndexedDbStore.open('two-tabs');
    await first.put(StoreTable.Meta, 'k', 1);
    await second.wipe();
    expect(await databaseNames()).not.toContain('pairwise-two-tabs');
    await expect(first.get(StoreTable.Meta, 'k')).rejects.toThrow(/closed or wiped/);
  });
});
