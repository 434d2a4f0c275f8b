// The app lock's store (history-lock.ts) over the memory store, in Node: the ClientStore contract
// with the lock off and with it on, and what the lock itself promises (SPEC LOCK-*). The same
// promises are checked again over IndexedDB in Chromium (dom/history-lock.test.ts).
import { describe, expect, it } from 'vitest';
import { STORE_TABLES, StoreTable, type ClientStore } from './client-store.js';
import {
  HistoryLockStore,
  LOCK_FAILURES_KEY,
  LOCK_SETTINGS_KEY,
  MAX_PASSCODE_ATTEMPTS,
  type StoredLockSettings,
} from './history-lock.js';
import { MemoryStore } from './memory-store.js';
import { HistoryLockedError, StoreCorruptError } from './store-errors.js';
import { describeClientStoreContract } from './test-support/client-store-contract.js';
import { writePbkdf2LockSettings } from './test-support/pbkdf2-lock-settings.js';

const PASSCODE = 'correct horse';
const SECRET = 'Meet me at the old mill at nine';

// With the lock on, the contract runs in Chromium over IndexedDB (dom/history-lock.test.ts): each
// open costs an Argon2id derivation (64 MiB, 3 passes), about half a second in either.
describeClientStoreContract('HistoryLockStore, lock off', async () => HistoryLockStore.open(new MemoryStore()), { persistent: false });

/** The settings as the inner store holds them, narrowed to Argon2id (the test fails otherwise). */
async function storedArgon2idSettings(inner: ClientStore): Promise<Extract<StoredLockSettings, { kdf: 'argon2id' }>> {
  const settings = await inner.get<StoredLockSettings>(StoreTable.Meta, LOCK_SETTINGS_KEY);
  expect(settings?.kdf).toBe('argon2id');
  return settings as Extract<StoredLockSettings, { kdf: 'argon2id' }>;
}

/** Every key and value the inner store holds, bytes as latin1 text, so a plaintext search means something. */
async function rawDump(inner: ClientStore): Promise<string> {
  const text = (value: unknown): unknown => {
    if (value instanceof Uint8Array) return String.fromCharCode(...value);
    if (Array.isArray(value)) return value.map(text);
    if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, text(item)]));
    return value;
  };
  const all: unknown[] = [];
  for (const table of STORE_TABLES) for (const [key, value] of await inner.list(table)) all.push([table, key, text(value)]);
  return JSON.stringify(all);
}

function message(text: string) {
  return { chatId: 'bob', messageId: 'ab'.repeat(16), text, sentAt: 1, outgoing: false, senderAccountId: 'bob', senderDeviceId: 'cd'.repeat(16) };
}

function outboxEntry(text: string) {
  return { version: 1, clientMessageId: Uint8Array.of(1, 2, 3), recipientAccountId: 'bob', forRecipient: new TextEncoder().encode(text), forSelf: new TextEncoder().encode(text), createdAt: 1 };
}

describe('HistoryLockStore', () => {
  it('[LOCK-1] turning the lock on seals the history already stored and everything written afterwards: no plaintext at rest', async () => {
    const inner = new MemoryStore();
    const store = await HistoryLockStore.open(inner);
    await store.put(StoreTable.Messages, 'bob/1', message(SECRET));
    await store.put(StoreTable.Outbox, '1/aa', outboxEntry(`${SECRET} (outbox)`));
    expect(await rawDump(inner)).toContain(SECRET);

    await store.enable(PASSCODE, 15);
    await store.put(StoreTable.Messages, 'bob/2', message(`${SECRET}, later`));
    const dump = await rawDump(inner);
    expect(dump).not.toContain(SECRET);
    expect(dump).not.toContain('old mill');
    // Unlocked, the store reads what was written, before and after.
    expect((await store.get<{ text: string }>(StoreTable.Messages, 'bob/1'))?.text).toBe(SECRET);
    expect((await store.list<{ text: string }>(StoreTable.Messages)).map(([, value]) => value.text)).toEqual([SECRET, `${SECRET}, later`]);
    const outbox = await store.get<ReturnType<typeof outboxEntry>>(StoreTable.Outbox, '1/aa');
    expect(new TextDecoder().decode(outbox!.forSelf)).toBe(`${SECRET} (outbox)`);
    expect(outbox!.clientMessageId).toEqual(Uint8Array.of(1, 2, 3));
  });

  it('[LOCK-2] locking drops the key: history reads throw HistoryLockedError, other tables still work', async () => {
    const store = await HistoryLockStore.open(new MemoryStore());
    await store.put(StoreTable.Messages, 'bob/1', message(SECRET));
    await store.put(StoreTable.Identity, 'self', { accountId: 'alice' });
    await store.enable(PASSCODE, 1);
    expect(store.locked).toBe(false);
    store.lock();
    expect(store.locked).toBe(true);
    await expect(store.get(StoreTable.Messages, 'bob/1')).rejects.toBeInstanceOf(HistoryLockedError);
    await expect(store.list(StoreTable.Messages)).rejects.toBeInstanceOf(HistoryLockedError);
    await expect(store.list(StoreTable.Outbox)).rejects.toBeInstanceOf(HistoryLockedError);
    expect(await store.get(StoreTable.Identity, 'self')).toEqual({ accountId: 'alice' });
    // The refusal says when it will be possible.
    const refusal: unknown = await store.list(StoreTable.Outbox).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(HistoryLockedError);
    let unlockedSeen = false;
    void (refusal as HistoryLockedError).unlocked.then(() => (unlockedSeen = true));
    expect(await store.unlock(PASSCODE)).toEqual({ ok: true });
    await Promise.resolve();
    expect(unlockedSeen).toBe(true);
    expect((await store.get<{ text: string }>(StoreTable.Messages, 'bob/1'))?.text).toBe(SECRET);
  });

  it('[LOCK-2] a read that started unlocked does not hand out history once the store is locked', async () => {
    const store = await HistoryLockStore.open(new MemoryStore());
    await store.enable(PASSCODE, 1);
    for (let index = 0; index < 20; index++) await store.put(StoreTable.Messages, `bob/${index}`, message(`${SECRET} ${index}`));
    const reading = store.list(StoreTable.Messages);
    store.lock();
    await expect(reading).rejects.toBeInstanceOf(HistoryLockedError);
  });

  it('[LOCK-5] messages written while locked are sealed and readable after unlock; deletes work while locked', async () => {
    const inner = new MemoryStore();
    const first = await HistoryLockStore.open(inner);
    await first.enable(PASSCODE, 15);
    // A reload: the lock starts locked.
    const store = await HistoryLockStore.open(inner);
    expect(store.enabled).toBe(true);
    expect(store.locked).toBe(true);
    await store.put(StoreTable.Messages, 'bob/5', message(SECRET));
    await store.put(StoreTable.Outbox, '5/aa', outboxEntry(SECRET));
    await store.put(StoreTable.Outbox, '6/bb', outboxEntry('sent already'));
    await store.delete(StoreTable.Outbox, '6/bb');
    expect(await rawDump(inner)).not.toContain(SECRET);
    expect((await store.unlock(PASSCODE)).ok).toBe(true);
    expect((await store.list<{ text: string }>(StoreTable.Messages)).map(([, value]) => value.text)).toEqual([SECRET]);
    expect((await store.list(StoreTable.Outbox)).map(([key]) => key)).toEqual(['5/aa']);
  });

  it('[LOCK-3] derives the passcode key with Argon2id (m >= 64 MiB, t >= 3, p = 1, 16-byte salt); only a wrapped key is in the settings', async () => {
    const inner = new MemoryStore();
    const store = await HistoryLockStore.open(inner);
    await store.enable(PASSCODE, 60);
    const settings = await storedArgon2idSettings(inner);
    expect(settings.memoryKiB).toBeGreaterThanOrEqual(65_536);
    expect(settings.iterations).toBeGreaterThanOrEqual(3);
    expect(settings.parallelism).toBe(1);
    expect(settings.salt).toBeInstanceOf(Uint8Array);
    expect(settings.salt.length).toBe(16);
    expect(settings.lockAfterMinutes).toBe(60);
    expect(settings.complete).toBe(true);
    // Nothing in the settings is a key object: the private key exists on disk only wrapped.
    expect(Object.values(settings).some((value) => typeof value === 'object' && !(value instanceof Uint8Array))).toBe(false);
    // Changing the passcode derives with a fresh salt, with Argon2id again.
    expect(await store.change(PASSCODE, { passcode: 'another passcode' })).toEqual({ ok: true });
    const changed = await storedArgon2idSettings(inner);
    expect(changed.salt).not.toEqual(settings.salt);
    expect(changed.memoryKiB).toBeGreaterThanOrEqual(65_536);
    expect(changed.iterations).toBeGreaterThanOrEqual(3);
    expect(changed.publicKey).toEqual(settings.publicKey);
  });

  it('[LOCK-3] refuses settings that weaken the key derivation, and passcodes shorter than 6 characters', async () => {
    const inner = new MemoryStore();
    const store = await HistoryLockStore.open(inner);
    await expect(store.enable('12345', 15)).rejects.toBeInstanceOf(RangeError);
    await expect(store.enable('123456', 5 as 15)).rejects.toBeInstanceOf(RangeError);
    expect(store.enabled).toBe(false);
    await store.enable('123456', 15);
    const settings = await storedArgon2idSettings(inner);
    expect(await HistoryLockStore.open(inner)).toBeInstanceOf(HistoryLockStore);
    for (const weakened of [
      { ...settings, memoryKiB: 65_535 },
      { ...settings, iterations: 2 },
      { ...settings, parallelism: 0 },
      { ...settings, memoryKiB: '65536' },
      { ...settings, kdf: 'scrypt' },
      { ...settings, salt: settings.salt.subarray(0, 8) },
      // A PBKDF2 record is still read, but not one with fewer than 600,000 iterations.
      { ...settings, kdf: 'PBKDF2-SHA256', iterations: 1000 },
    ]) {
      await inner.put(StoreTable.Meta, LOCK_SETTINGS_KEY, weakened);
      await expect(HistoryLockStore.open(inner), JSON.stringify(Object.keys(weakened))).rejects.toBeInstanceOf(StoreCorruptError);
    }
  });

  it('[LOCK-3] a store locked under PBKDF2 moves to Argon2id at its next unlock, with a fresh salt, and still unlocks', async () => {
    const inner = new MemoryStore();
    const legacy = await writePbkdf2LockSettings(inner, PASSCODE, 60);
    const store = await HistoryLockStore.open(inner);
    expect(store.locked).toBe(true);
    await store.put(StoreTable.Messages, 'bob/1', message(SECRET));
    // [LOCK-4] A wrong passcode is counted and moves nothing.
    expect(await store.unlock('wrong horse')).toEqual({ ok: false, attemptsLeft: 9, mustWipe: false });
    expect((await inner.get<StoredLockSettings>(StoreTable.Meta, LOCK_SETTINGS_KEY))?.kdf).toBe('PBKDF2-SHA256');

    expect(await store.unlock(PASSCODE)).toEqual({ ok: true });
    expect((await store.get<{ text: string }>(StoreTable.Messages, 'bob/1'))?.text).toBe(SECRET);
    const moved = await storedArgon2idSettings(inner);
    expect(moved.memoryKiB).toBeGreaterThanOrEqual(65_536);
    expect(moved.iterations).toBeGreaterThanOrEqual(3);
    expect(moved.salt).not.toEqual(legacy.salt);
    expect(moved.wrappedKey).not.toEqual(legacy.wrappedKey);
    expect(moved.publicKey).toEqual(legacy.publicKey);
    expect(moved.lockAfterMinutes).toBe(60);
    expect(moved.complete).toBe(true);
    // Only the Argon2id fields: nothing of the PBKDF2 record lingers.
    expect(Object.keys(moved).sort()).toEqual(
      ['complete', 'iterations', 'kdf', 'lockAfterMinutes', 'memoryKiB', 'parallelism', 'publicKey', 'salt', 'version', 'wrappedKey'].sort(),
    );

    // A reload reads the new record: the same passcode opens the same history, a wrong one still counts.
    const reopened = await HistoryLockStore.open(inner);
    expect(reopened.locked).toBe(true);
    expect(await reopened.unlock('wrong horse')).toEqual({ ok: false, attemptsLeft: 9, mustWipe: false });
    expect(await reopened.unlock(PASSCODE)).toEqual({ ok: true });
    expect((await reopened.get<{ text: string }>(StoreTable.Messages, 'bob/1'))?.text).toBe(SECRET);
    expect((await storedArgon2idSettings(inner)).salt).toEqual(moved.salt);
  });

  it('[LOCK-3] a PBKDF2 store changed in another tab is not undone by a tab that read it before', async () => {
    const inner = new MemoryStore();
    await writePbkdf2LockSettings(inner, PASSCODE);
    const first = await HistoryLockStore.open(inner);
    const second = await HistoryLockStore.open(inner);
    expect(await first.change(PASSCODE, { passcode: 'harbour lights 77', lockAfterMinutes: 1 })).toEqual({ ok: true });
    const changed = await storedArgon2idSettings(inner);
    expect(changed.lockAfterMinutes).toBe(1);
    // The second tab still holds the old record in memory (until it reloads): unlocking there
    // must not write its stale PBKDF2-era settings back over the new ones.
    expect((await second.unlock(PASSCODE)).ok).toBe(true);
    expect(await inner.get(StoreTable.Meta, LOCK_SETTINGS_KEY)).toEqual(changed);
    const reopened = await HistoryLockStore.open(inner);
    expect((await reopened.unlock(PASSCODE)).ok).toBe(false);
    expect((await reopened.unlock('harbour lights 77')).ok).toBe(true);
  });

  it('[LOCK-4] wrong passcodes are refused and counted (across reloads); the 10th tells the caller to wipe', async () => {
    const inner = new MemoryStore();
    const first = await HistoryLockStore.open(inner);
    await first.enable(PASSCODE, 15);
    first.lock();
    expect(await first.unlock('wrong one')).toEqual({ ok: false, attemptsLeft: 9, mustWipe: false });
    expect(await first.unlock('wrong two')).toEqual({ ok: false, attemptsLeft: 8, mustWipe: false });
    expect(await inner.get(StoreTable.Meta, LOCK_FAILURES_KEY)).toBe(2);
    // A right passcode resets the count.
    expect(await first.unlock(PASSCODE)).toEqual({ ok: true });
    expect(first.failedAttempts).toBe(0);
    first.lock();
    for (let attempt = 1; attempt <= 4; attempt++) await first.unlock(`wrong ${attempt}`);

    const store = await HistoryLockStore.open(inner);
    expect(store.failedAttempts).toBe(4);
    const answers = [];
    for (let attempt = 5; attempt <= MAX_PASSCODE_ATTEMPTS; attempt++) answers.push(await store.unlock(`wrong ${attempt}`));
    expect(answers.at(-2)).toEqual({ ok: false, attemptsLeft: 1, mustWipe: false });
    expect(answers.at(-1)).toEqual({ ok: false, attemptsLeft: 0, mustWipe: true });
    expect(store.mustWipe).toBe(true);
    // From then on even the right passcode is refused: the device must be wiped.
    expect(await store.unlock(PASSCODE)).toEqual({ ok: false, attemptsLeft: 0, mustWipe: true });
    expect(store.locked).toBe(true);
    expect((await HistoryLockStore.open(inner)).mustWipe).toBe(true);
  });

  it('[LOCK-4] two tabs share one count of wrong passcodes', async () => {
    const inner = new MemoryStore();
    const first = await HistoryLockStore.open(inner);
    await first.enable(PASSCODE, 15);
    first.lock();
    const second = await HistoryLockStore.open(inner);
    for (let attempt = 1; attempt <= 6; attempt++) await first.unlock(`wrong ${attempt}`);
    const answers = [];
    for (let attempt = 7; attempt <= MAX_PASSCODE_ATTEMPTS; attempt++) answers.push(await second.unlock(`wrong ${attempt}`));
    expect(answers.at(-1)).toEqual({ ok: false, attemptsLeft: 0, mustWipe: true });
    expect(await first.unlock(PASSCODE)).toEqual({ ok: false, attemptsLeft: 0, mustWipe: true });
  });

  it('[LOCK-4] wrong current passcodes when changing or turning off the lock count too', async () => {
    const store = await HistoryLockStore.open(new MemoryStore());
    await store.enable(PASSCODE, 15);
    expect(await store.change('nope nope', { lockAfterMinutes: 1 })).toEqual({ ok: false, attemptsLeft: 9, mustWipe: false });
    expect(await store.disable('nope nope')).toEqual({ ok: false, attemptsLeft: 8, mustWipe: false });
    expect(store.lockAfterMinutes).toBe(15);
    expect(store.enabled).toBe(true);
  });

  it('[LOCK-6] the passcode and "lock after" change with the current passcode; turning the lock off stores the history in plaintext again', async () => {
    const inner = new MemoryStore();
    const store = await HistoryLockStore.open(inner);
    await store.enable(PASSCODE, 15);
    await store.put(StoreTable.Messages, 'bob/1', message(SECRET));
    expect(await store.change(PASSCODE, { passcode: 'new passcode', lockAfterMinutes: 60 })).toEqual({ ok: true });
    expect(store.lockAfterMinutes).toBe(60);
    store.lock();
    expect((await store.unlock(PASSCODE)).ok).toBe(false);
    expect((await store.unlock('new passcode')).ok).toBe(true);
    expect((await store.get<{ text: string }>(StoreTable.Messages, 'bob/1'))?.text).toBe(SECRET);

    expect(await store.disable('new passcode')).toEqual({ ok: true });
    expect(store.enabled).toBe(false);
    expect(await inner.get(StoreTable.Meta, LOCK_SETTINGS_KEY)).toBeUndefined();
    expect(await inner.get(StoreTable.Messages, 'bob/1')).toEqual(message(SECRET));
    await store.put(StoreTable.Messages, 'bob/2', message('plain again'));
    expect(await inner.get(StoreTable.Messages, 'bob/2')).toEqual(message('plain again'));
    expect(() => store.lock()).toThrow(/off/);
  });

  it('keeps its own meta entries to itself: not listed, not writable through it', async () => {
    const store = await HistoryLockStore.open(new MemoryStore());
    await store.enable(PASSCODE, 15);
    await store.put(StoreTable.Meta, 'app/x', 1);
    expect(await store.list(StoreTable.Meta)).toEqual([['app/x', 1]]);
    await expect(store.put(StoreTable.Meta, LOCK_FAILURES_KEY, 0)).rejects.toBeInstanceOf(TypeError);
    await expect(store.delete(StoreTable.Meta, LOCK_SETTINGS_KEY)).rejects.toBeInstanceOf(TypeError);
  });

  it('[LOCK-1] a turn-on cut short is finished at the next open: plaintext left behind is sealed', async () => {
    const inner = new MemoryStore();
    const store = await HistoryLockStore.open(inner);
    await store.enable(PASSCODE, 15);
    // As if the tab closed between writing the settings and sealing the records.
    const settings = await inner.get<StoredLockSettings>(StoreTable.Meta, LOCK_SETTINGS_KEY);
    await inner.put(StoreTable.Meta, LOCK_SETTINGS_KEY, { ...settings, complete: false });
    await inner.put(StoreTable.Messages, 'bob/9', message(SECRET));
    const reopened = await HistoryLockStore.open(inner);
    expect(await rawDump(inner)).not.toContain(SECRET);
    expect((await reopened.unlock(PASSCODE)).ok).toBe(true);
    expect((await reopened.get<{ text: string }>(StoreTable.Messages, 'bob/9'))?.text).toBe(SECRET);
  });

  it('[LOCK-1] a sealed record moved to another key or table does not open there', async () => {
    const inner = new MemoryStore();
    const store = await HistoryLockStore.open(inner);
    await store.enable(PASSCODE, 15);
    await store.put(StoreTable.Messages, 'bob/1', message(SECRET));
    const sealed = await inner.get(StoreTable.Messages, 'bob/1');
    await inner.put(StoreTable.Messages, 'carol/1', sealed);
    await inner.put(StoreTable.Outbox, 'bob/1', sealed);
    await expect(store.get(StoreTable.Messages, 'carol/1')).rejects.toBeInstanceOf(StoreCorruptError);
    await expect(store.get(StoreTable.Outbox, 'bob/1')).rejects.toBeInstanceOf(StoreCorruptError);
  });
});
