// The app lock's store over IndexedDB, in Chromium (the companion's real setting): the
// ClientStore contract with the lock on, and the lock's promises checked against the raw
// database, read here without the SDK (SPEC LOCK-*).
import { describe, expect, it } from 'vitest';
import { StoreTable } from '../client-store.js';
import { HistoryLockStore, LOCK_SETTINGS_KEY, MAX_PASSCODE_ATTEMPTS, type StoredLockSettings } from '../history-lock.js';
import { HistoryLockedError } from '../store-errors.js';
import { describeClientStoreContract } from '../test-support/client-store-contract.js';
import { writePbkdf2LockSettings } from '../test-support/pbkdf2-lock-settings.js';
import { IndexedDbStore } from './indexeddb-store.js';

const PASSCODE = 'correct horse';
const SECRET = 'Meet me at the old mill at nine';

/** Opens the lock over IndexedDB `name`, turning it on (or unlocking it) so that the history reads. */
async function openUnlocked(name: string): Promise<HistoryLockStore> {
  const store = await HistoryLockStore.open(await IndexedDbStore.open(name));
  if (!store.enabled) await store.enable(PASSCODE, 15);
  else if (store.locked) expect((await store.unlock(PASSCODE)).ok).toBe(true);
  return store;
}

describeClientStoreContract('HistoryLockStore, lock on and unlocked, over IndexedDB', () => openUnlocked('lock-contract'), { persistent: true });

/** Every key and value of every object store of database `name`, bytes as latin1 text. */
async function rawDatabase(name: string): Promise<string> {
  const request = indexedDB.open(`pairwise-${name}`);
  const database = await new Promise<IDBDatabase>((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('open failed'));
  });
  const text = (value: unknown): unknown => {
    if (value instanceof Uint8Array) return String.fromCharCode(...value);
    if (Array.isArray(value)) return value.map(text);
    if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, text(item)]));
    return value;
  };
  const all: unknown[] = [];
  try {
    for (const table of Array.from(database.objectStoreNames)) {
      const store = database.transaction(table, 'readonly').objectStore(table);
      const values = await new Promise<unknown[]>((resolve, reject) => {
        const read = store.getAll();
        read.onsuccess = () => resolve(read.result);
        read.onerror = () => reject(read.error ?? new Error('read failed'));
      });
      all.push([table, values.map(text)]);
    }
  } finally {
    database.close();
  }
  return JSON.stringify(all);
}

describe('HistoryLockStore over IndexedDB', () => {
  it('[LOCK-1] no value in the database holds the plaintext of a message, sealed before or while locked', async () => {
    const name = 'lock-plaintext';
    await (await IndexedDbStore.open(name)).wipe();
    const plain = await HistoryLockStore.open(await IndexedDbStore.open(name));
    await plain.put(StoreTable.Messages, 'bob/1', { chatId: 'bob', text: SECRET, sentAt: 1 });
    expect(await rawDatabase(name)).toContain(SECRET);
    await plain.enable(PASSCODE, 1);
    expect(await rawDatabase(name)).not.toContain(SECRET);
    plain.lock();
    await plain.put(StoreTable.Messages, 'bob/2', { chatId: 'bob', text: `${SECRET} again`, sentAt: 2 });
    await plain.put(StoreTable.Outbox, '2/aa', { forSelf: new TextEncoder().encode(`${SECRET} outbox`) });
    expect(await rawDatabase(name)).not.toContain('old mill');
    await plain.close();

    // [LOCK-5] A reload starts locked; what arrived while locked reads after unlock.
    const store = await HistoryLockStore.open(await IndexedDbStore.open(name));
    expect(store.locked).toBe(true);
    await expect(store.list(StoreTable.Messages)).rejects.toBeInstanceOf(HistoryLockedError);
    expect((await store.unlock(PASSCODE)).ok).toBe(true);
    expect((await store.list<{ text: string }>(StoreTable.Messages)).map(([, value]) => value.text)).toEqual([SECRET, `${SECRET} again`]);
    // [LOCK-3] from the stored settings: Argon2id, at least 64 MiB and 3 passes.
    const settings = await store.inner.get<StoredLockSettings>(StoreTable.Meta, LOCK_SETTINGS_KEY);
    expect(settings?.kdf).toBe('argon2id');
    expect(settings?.kdf === 'argon2id' && settings.memoryKiB).toBeGreaterThanOrEqual(65_536);
    expect(settings?.iterations).toBeGreaterThanOrEqual(3);
    // [LOCK-2] locking drops the key.
    store.lock();
    await expect(store.get(StoreTable.Messages, 'bob/1')).rejects.toBeInstanceOf(HistoryLockedError);
    await store.wipe();
  });

  it('[LOCK-3] a database locked under PBKDF2 moves to Argon2id at its next unlock and still unlocks after a reload', async () => {
    const name = 'lock-pbkdf2';
    await (await IndexedDbStore.open(name)).wipe();
    const inner = await IndexedDbStore.open(name);
    const legacy = await writePbkdf2LockSettings(inner, PASSCODE);
    const store = await HistoryLockStore.open(inner);
    await store.put(StoreTable.Messages, 'bob/1', { chatId: 'bob', text: SECRET, sentAt: 1 });
    // [LOCK-4] A wrong passcode counts and moves nothing.
    expect(await store.unlock('wrong horse')).toEqual({ ok: false, attemptsLeft: 9, mustWipe: false });
    expect((await inner.get<StoredLockSettings>(StoreTable.Meta, LOCK_SETTINGS_KEY))?.kdf).toBe('PBKDF2-SHA256');
    expect(await store.unlock(PASSCODE)).toEqual({ ok: true });
    const moved = await inner.get<StoredLockSettings>(StoreTable.Meta, LOCK_SETTINGS_KEY);
    expect(moved?.kdf).toBe('argon2id');
    expect(moved?.kdf === 'argon2id' && moved.memoryKiB).toBeGreaterThanOrEqual(65_536);
    expect(moved?.iterations).toBeGreaterThanOrEqual(3);
    expect(moved?.salt).not.toEqual(legacy.salt);
    expect(moved?.publicKey).toEqual(legacy.publicKey);
    await store.close();

    const reopened = await HistoryLockStore.open(await IndexedDbStore.open(name));
    expect(reopened.locked).toBe(true);
    expect(await reopened.unlock('wrong horse')).toEqual({ ok: false, attemptsLeft: 9, mustWipe: false });
    expect(await reopened.unlock(PASSCODE)).toEqual({ ok: true });
    expect((await reopened.get<{ text: string }>(StoreTable.Messages, 'bob/1'))?.text).toBe(SECRET);
    expect(await rawDatabase(name)).not.toContain('old mill');
    await reopened.wipe();
  });

  it('[LOCK-4] ten wrong passcodes tell the caller to wipe, and wiping leaves no database', async () => {
    const name = 'lock-attempts';
    await (await IndexedDbStore.open(name)).wipe();
    const store = await HistoryLockStore.open(await IndexedDbStore.open(name));
    await store.enable(PASSCODE, 15);
    store.lock();
    let last;
    for (let attempt = 1; attempt <= MAX_PASSCODE_ATTEMPTS; attempt++) last = await store.unlock(`wrong ${attempt}`);
    expect(last).toEqual({ ok: false, attemptsLeft: 0, mustWipe: true });
    expect(store.mustWipe).toBe(true);
    await store.wipe();
    expect((await indexedDB.databases()).map((database) => database.name)).not.toContain(`pairwise-${name}`);
  });

  it('[LOCK-4] wrong passcodes typed at once in several tabs are each counted', async () => {
    const name = 'lock-tabs';
    await (await IndexedDbStore.open(name)).wipe();
    const first = await HistoryLockStore.open(await IndexedDbStore.open(name));
    await first.enable(PASSCODE, 15);
    first.lock();
    // Four more tabs of the same browser: each its own connection to the same database.
    const tabs = [first, ...(await Promise.all([1, 2, 3, 4].map(async () => HistoryLockStore.open(await IndexedDbStore.open(name)))))];
    const results = await Promise.all(tabs.map((tab, index) => tab.unlock(`wrong ${index}`)));
    expect(results.map((result) => (result.ok ? -1 : result.attemptsLeft)).sort()).toEqual([5, 6, 7, 8, 9]);
    expect(await first.inner.get(StoreTable.Meta, 'lock/failures')).toBe(5);
    // A right passcode in one tab resets the shared count: the next wrong one elsewhere is the first.
    expect((await tabs[1]!.unlock(PASSCODE)).ok).toBe(true);
    expect(await tabs[2]!.unlock('wrong again')).toEqual({ ok: false, attemptsLeft: 9, mustWipe: false });
    for (const tab of tabs.slice(1)) await tab.close();
    await first.wipe();
  });
});
