/**
 * A companion's app lock, in the store (SPEC LOCK-*): a `ClientStore` wrapper that keeps the
 * message history encrypted at rest and can drop the key that reads it.
 *
 * One mechanism:
 * - Turning the lock on makes a history key pair (X25519). From then on every record of the
 *   `messages` and `outbox` tables (everything that holds message text) is stored as a sealed box
 *   to its public key: ephemeral ECDH, HKDF, AES-256-GCM, bound to the table and key
 *   (`@pairwise/crypto/history-record`). Sealing needs only the public key, so messages that
 *   arrive while the app is locked are written without any secret in memory, and shown after
 *   unlock.
 * - The private key is on disk only wrapped (AES-256-GCM, `wrapKey`) under a key derived from the
 *   passcode with Argon2id, at least 64 MiB and 3 passes, and a random 16-byte salt
 *   (`@pairwise/crypto/passcode-key`). Unlocking unwraps it as a non-extractable `CryptoKey`;
 *   locking drops it. While locked, reading those two tables throws `HistoryLockedError`;
 *   writing and deleting still work, so the device keeps receiving. A store locked before
 *   Argon2id (PBKDF2-SHA256) is moved to it at its next unlock, from the passcode just typed.
 * - Every other table passes through untouched: the device's own keys are not locked, so the
 *   device stays connected and can log out (wipe) while locked.
 * - The lock's settings (key derivation and its parameters, public key, wrapped key, "lock
 *   after") and the count of wrong passcodes live in the inner store's `meta` table. None of it
 *   is secret. A wrong passcode is counted before it is checked, so closing the tab mid-check
 *   does not give a free try; after `MAX_PASSCODE_ATTEMPTS` the answer says `mustWipe` and the
 *   caller logs the device out.
 *
 * Calls on the two sealed tables run one after another in call order (sealing is asynchronous,
 * and a later put must never land before an earlier one); turning the lock on or off runs in the
 * same queue, so no write can slip through in plaintext while records are being converted.
 * @module
 */
import { openHistoryRecord, sealHistoryRecord } from '@pairwise/crypto/history-record';
import { bytesEqual } from '@pairwise/crypto/bytes';
import {
  checkPasscodeKdfParams,
  derivePasscodeKey,
  generateWrappedX25519KeyPair,
  newPasscodeKdfParams,
  PASSCODE_KDF,
  rewrapX25519PrivateKey,
  unwrapX25519PrivateKey,
  type Argon2idPasscodeParams,
  type PasscodeKdfParams,
} from '@pairwise/crypto/passcode-key';
import { StoreTable, type ClientStore } from './client-store.js';
import type { DeviceLock, DeviceLockOptions } from './device-lock.js';
import { structuredCloneValue } from './platform.js';
import { decodeRecord, encodeRecord } from './record-codec.js';
import { assertKey, assertPrefix, assertStorableValue } from './store-arguments.js';
import { HistoryLockedError, StoreCorruptError } from './store-errors.js';

/** A WebCrypto key handle (the private history key, the passcode key). */
type CryptoKey = Awaited<ReturnType<typeof derivePasscodeKey>>;

/** The tables whose values are sealed: everything that holds message text. */
export const SEALED_TABLES: readonly StoreTable[] = [StoreTable.Messages, StoreTable.Outbox];

/** The "Lock after" choices, in minutes of inactivity. */
export const LOCK_AFTER_MINUTES = [1, 15, 60] as const;
/** One of `LOCK_AFTER_MINUTES`. */
export type LockAfterMinutes = (typeof LOCK_AFTER_MINUTES)[number];

/** Wrong passcodes in a row after which the device must be wiped. */
export const MAX_PASSCODE_ATTEMPTS = 10;
/** The shortest passcode accepted, in characters. */
export const MIN_PASSCODE_LENGTH = 6;

/** Where the lock keeps its settings and its count of wrong passcodes (inner store, `meta` table). */
export const LOCK_SETTINGS_KEY = 'lock/settings';
/** See `LOCK_SETTINGS_KEY`. */
export const LOCK_FAILURES_KEY = 'lock/failures';

/** The answer to a passcode. */
export type PasscodeResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** Wrong passcodes still allowed. */
      readonly attemptsLeft: number;
      /** No attempts left: the caller must wipe the device (log out). */
      readonly mustWipe: boolean;
    };

/**
 * The lock's settings as stored in `meta` (see the module comment): the passcode key's derivation
 * (`kdf` names it: 'argon2id' with `salt`, `memoryKiB`, `iterations`, `parallelism`; or, in stores
 * locked before Argon2id, 'PBKDF2-SHA256' with `salt`, `iterations`) beside the rest.
 */
export type StoredLockSettings = LockSettingsRecord & PasscodeKdfParams;

/** The part of `StoredLockSettings` that does not depend on the key derivation. */
export interface LockSettingsRecord {
  readonly version: 1;
  /** The history public key every record is sealed to. */
  readonly publicKey: Uint8Array;
  /** The history private key, wrapped under the passcode key. */
  readonly wrappedKey: Uint8Array;
  readonly lockAfterMinutes: LockAfterMinutes;
  /**
   * False while records may still be in plaintext (turning on or off was interrupted): the next
   * open seals what is left.
   */
  readonly complete: boolean;
}

/** A stored record of a sealed table while the lock is on. */
interface SealedEnvelope {
  readonly lockedRecord: Uint8Array;
}

/** Whether `passcode` may be set: a string of at least `MIN_PASSCODE_LENGTH` characters. */
export function isAcceptablePasscode(passcode: unknown): passcode is string {
  return typeof passcode === 'string' && [...passcode].length >= MIN_PASSCODE_LENGTH;
}

function assertNewPasscode(passcode: unknown): asserts passcode is string {
  if (!isAcceptablePasscode(passcode)) throw new RangeError(`the passcode must have at least ${MIN_PASSCODE_LENGTH} characters`);
}

function assertLockAfter(minutes: unknown): asserts minutes is LockAfterMinutes {
  if (!LOCK_AFTER_MINUTES.includes(minutes as LockAfterMinutes)) {
    throw new RangeError(`lockAfterMinutes must be one of ${LOCK_AFTER_MINUTES.join(', ')}; got ${String(minutes)}`);
  }
}

function isSealedTable(table: StoreTable): boolean {
  return SEALED_TABLES.includes(table);
}

function isReservedKey(table: StoreTable, key: unknown): boolean {
  return table === StoreTable.Meta && (key === LOCK_SETTINGS_KEY || key === LOCK_FAILURES_KEY);
}

function isEnvelope(value: unknown): value is SealedEnvelope {
  if (typeof value !== 'object' || value === null) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === 'lockedRecord' && (value as SealedEnvelope).lockedRecord instanceof Uint8Array;
}

/**
 * A `ClientStore` whose message history can be locked behind a passcode. With the lock off it
 * passes everything through unchanged.
 *
 * @example
 * ```ts
 * const store = await HistoryLockStore.open(await IndexedDbStore.open('device'));
 * const client = await PairwiseClient.open({ ...options, store });
 * await store.enable('correct horse', 15); // history sealed from now on
 * store.lock();                            // reading history throws HistoryLockedError
 * const result = await store.unlock(typed);
 * if (!result.ok && result.mustWipe) await client.logOut();
 * ```
 */
export class HistoryLockStore implements ClientStore {
  private settings: StoredLockSettings | null;
  /** Where new records are sealed to; null while they are written in plaintext (lock off, or turning off). */
  private sealTo: Uint8Array | null;
  private historyKey: CryptoKey | null = null;
  /** Bumped by every lock, so that a read begun unlocked cannot hand out history after a lock. */
  private generation = 0;
  private failures: number;
  private queue: Promise<unknown> = Promise.resolve();
  private passcodeQueue: Promise<unknown> = Promise.resolve();
  private unlockedSignal = deferred();
  private readonly listeners = new Set<() => void>();

  private constructor(
    /** The store underneath; holds the sealed records and the lock's settings. */
    readonly inner: ClientStore,
    settings: StoredLockSettings | null,
    failures: number,
  ) {
    this.settings = settings;
    this.sealTo = settings?.publicKey ?? null;
    this.failures = failures;
  }

  /** Wraps `inner`. A lock that is on starts locked. */
  static async open(inner: ClientStore): Promise<HistoryLockStore> {
    const settings = parseSettings(await inner.get(StoreTable.Meta, LOCK_SETTINGS_KEY));
    const failures = await inner.get<unknown>(StoreTable.Meta, LOCK_FAILURES_KEY);
    const store = new HistoryLockStore(inner, settings, typeof failures === 'number' && Number.isSafeInteger(failures) && failures > 0 ? failures : 0);
    // Turning on (or off) was cut short: seal what is still in plaintext; only the public key is needed.
    if (settings !== null && !settings.complete) await store.run(() => store.sealLeftovers());
    return store;
  }

  /** Whether a passcode is set. */
  get enabled(): boolean {
    return this.settings !== null;
  }

  /** Whether the history cannot be read now: a passcode is set and the key is not in memory. */
  get locked(): boolean {
    return this.settings !== null && this.historyKey === null;
  }

  /** The "Lock after" choice; null with the lock off. */
  get lockAfterMinutes(): LockAfterMinutes | null {
    return this.settings?.lockAfterMinutes ?? null;
  }

  /** Wrong passcodes in a row so far. */
  get failedAttempts(): number {
    return this.failures;
  }

  /** No attempts left: the device must be wiped (log out) before anything else. */
  get mustWipe(): boolean {
    return this.settings !== null && this.failures >= MAX_PASSCODE_ATTEMPTS;
  }

  /** Calls `listener` after every change of the above; returns the function that stops it. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves at the next unlock (at once if unlocked or if the lock is off). */
  whenUnlocked(): Promise<void> {
    return this.locked ? this.unlockedSignal.promise : Promise.resolve();
  }

  /**
   * Turns the lock on: sets `passcode` (at least 6 characters) and "lock after", and seals the
   * history already stored. The store stays unlocked. Refused if the lock is already on.
   */
  async enable(passcode: string, lockAfterMinutes: LockAfterMinutes): Promise<void> {
    if (this.settings !== null) throw new Error('the app lock is already on: change it with the current passcode');
    assertNewPasscode(passcode);
    assertLockAfter(lockAfterMinutes);
    const kdf = newPasscodeKdfParams();
    const pair = await generateWrappedX25519KeyPair(await derivePasscodeKey(passcode, kdf));
    const settings: StoredLockSettings = { version: 1, ...kdf, publicKey: pair.publicKey, wrappedKey: pair.wrapped, lockAfterMinutes, complete: false };
    await this.run(async () => {
      // Settings first: if the tab closes during the rewrite, the next open finishes it.
      await this.inner.put(StoreTable.Meta, LOCK_SETTINGS_KEY, settings);
      await this.inner.put(StoreTable.Meta, LOCK_FAILURES_KEY, 0);
      this.settings = settings;
      this.sealTo = settings.publicKey;
      this.historyKey = pair.privateKey;
      this.failures = 0;
      await this.sealLeftovers();
    });
    this.changed();
  }

  /**
   * Unlocks with `passcode`: the history key is unwrapped into memory (non-extractable).
   * A wrong passcode is counted; see `PasscodeResult`. A right one also moves a key still wrapped
   * under PBKDF2 to Argon2id (SPEC LOCK-3).
   */
  async unlock(passcode: string): Promise<PasscodeResult> {
    const checked = await this.check(passcode);
    return checked.ok ? { ok: true } : checked;
  }

  /** Drops the history key from memory: reading history throws `HistoryLockedError` until `unlock`. */
  lock(): void {
    if (this.settings === null) throw new Error('the app lock is off');
    if (this.historyKey === null) return;
    this.historyKey = null;
    this.generation++;
    this.unlockedSignal = deferred();
    this.changed();
  }

  /**
   * Changes the passcode and/or "lock after", given the current passcode (counted like an unlock
   * when wrong). The history key stays the same; only its wrapping changes, always to Argon2id.
   */
  async change(
    currentPasscode: string,
    changes: { readonly passcode?: string; readonly lockAfterMinutes?: LockAfterMinutes },
  ): Promise<PasscodeResult> {
    if (changes.passcode !== undefined) assertNewPasscode(changes.passcode);
    if (changes.lockAfterMinutes !== undefined) assertLockAfter(changes.lockAfterMinutes);
    const checked = await this.check(currentPasscode);
    if (!checked.ok) return checked;
    const settings = checked.settings;
    let next: StoredLockSettings = { ...settings, lockAfterMinutes: changes.lockAfterMinutes ?? settings.lockAfterMinutes };
    if (changes.passcode !== undefined) {
      const kdf = newPasscodeKdfParams();
      const wrappedKey = await rewrapX25519PrivateKey(checked.kek, await derivePasscodeKey(changes.passcode, kdf), settings.publicKey, settings.wrappedKey);
      if (wrappedKey === null) throw new Error('the history key did not unwrap with a passcode that just opened it');
      next = withKdf(next, kdf, wrappedKey);
    }
    await this.inner.put(StoreTable.Meta, LOCK_SETTINGS_KEY, next);
    this.settings = next;
    this.changed();
    return { ok: true };
  }

  /** Turns the lock off, given the passcode: the history is stored in plaintext again. */
  async disable(passcode: string): Promise<PasscodeResult> {
    const checked = await this.check(passcode);
    if (!checked.ok) return checked;
    await this.run(async () => {
      const settings = this.settings;
      if (settings === null) return;
      // Marked incomplete first: if the tab closes midway, the next open seals the plaintext again.
      await this.inner.put(StoreTable.Meta, LOCK_SETTINGS_KEY, { ...settings, complete: false });
      this.sealTo = null;
      for (const table of SEALED_TABLES) {
        for (const [key, value] of await this.inner.list<unknown>(table)) {
          if (isEnvelope(value)) await this.inner.put(table, key, await this.open(table, key, value, checked.key));
        }
      }
      await this.inner.delete(StoreTable.Meta, LOCK_SETTINGS_KEY);
      await this.inner.delete(StoreTable.Meta, LOCK_FAILURES_KEY);
      this.settings = null;
      this.historyKey = null;
      this.failures = 0;
    });
    this.unlockedSignal.resolve();
    this.changed();
    return { ok: true };
  }

  /** {@inheritDoc ClientStore.needsExtractableKeys} */
  get needsExtractableKeys(): boolean {
    return this.inner.needsExtractableKeys;
  }

  /** {@inheritDoc ClientStore.get} */
  get<T>(table: StoreTable, key: string): Promise<T | undefined> {
    if (!isSealedTable(table)) return this.inner.get<T>(table, key);
    return this.run(async () => {
      assertKey(key);
      const reading = this.reader();
      const stored = await this.inner.get<unknown>(table, key);
      const value = stored === undefined ? undefined : await this.reveal(table, key, stored, reading);
      this.assertStillUnlocked(reading);
      return value as T | undefined;
    });
  }

  /** {@inheritDoc ClientStore.put} */
  put<T>(table: StoreTable, key: string, value: T): Promise<void> {
    if (isReservedKey(table, key)) return Promise.reject(new TypeError(`key ${JSON.stringify(key)} in table meta belongs to the app lock`));
    if (!isSealedTable(table)) return this.inner.put(table, key, value);
    try {
      assertKey(key);
      assertStorableValue(table, key, value);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    // Copied now: the caller changing `value` after this call must change nothing stored.
    const copy = structuredCloneValue(value);
    return this.run(async () => {
      const sealTo = this.sealTo;
      if (sealTo === null) return this.inner.put(table, key, copy);
      const envelope: SealedEnvelope = { lockedRecord: await sealHistoryRecord(sealTo, table, key, encodeRecord(copy)) };
      return this.inner.put(table, key, envelope);
    });
  }

  /** {@inheritDoc ClientStore.delete} */
  delete(table: StoreTable, key: string): Promise<void> {
    if (isReservedKey(table, key)) return Promise.reject(new TypeError(`key ${JSON.stringify(key)} in table meta belongs to the app lock`));
    if (!isSealedTable(table)) return this.inner.delete(table, key);
    return this.run(() => this.inner.delete(table, key));
  }

  /** {@inheritDoc ClientStore.list} */
  list<T>(table: StoreTable, prefix?: string): Promise<[string, T][]> {
    if (table === StoreTable.Meta) {
      // The lock's own entries are not the caller's: listing meta shows everything else.
      return this.inner.list<T>(table, prefix).then((entries) => entries.filter(([key]) => !isReservedKey(table, key)));
    }
    if (!isSealedTable(table)) return this.inner.list<T>(table, prefix);
    return this.run(async () => {
      assertPrefix(prefix);
      const reading = this.reader();
      const entries: [string, T][] = [];
      for (const [key, stored] of await this.inner.list<unknown>(table, prefix)) {
        entries.push([key, (await this.reveal(table, key, stored, reading)) as T]);
      }
      this.assertStillUnlocked(reading);
      return entries;
    });
  }

  /** Wipes the inner store (log out); the history key goes with it. */
  wipe(): Promise<void> {
    this.historyKey = null;
    return this.inner.wipe();
  }

  /** Closes the inner store; the history key is dropped. */
  close(): Promise<void> {
    this.historyKey = null;
    return this.inner.close();
  }

  /**
   * {@inheritDoc ClientStore.acquireDeviceLock} The inner store's: the app lock (`lock`) changes
   * only what is sealed, not who may use the device.
   */
  acquireDeviceLock(options?: DeviceLockOptions): Promise<DeviceLock> {
    return this.inner.acquireDeviceLock(options);
  }

  /** Checks a passcode, counting it if wrong. On success the history key is in memory. */
  private check(
    passcode: string,
  ): Promise<
    | { readonly ok: true; readonly settings: StoredLockSettings; readonly kek: CryptoKey; readonly key: CryptoKey }
    | (PasscodeResult & { readonly ok: false })
  > {
    if (typeof passcode !== 'string' || passcode === '') return Promise.reject(new TypeError('enter the passcode'));
    // One check at a time in this tab, and, where the browser has Web Locks, in all its tabs: the
    // count is read and written back in two steps, so two tabs checking at once would otherwise
    // both read the same count and a guess would go uncounted.
    const run = this.passcodeQueue.then(() =>
      acrossTabs(PASSCODE_CHECK_LOCK, async () => {
        const settings = this.settings;
        if (settings === null) throw new Error('the app lock is off');
        // The stored count is the shared one: other tabs count their wrong passcodes (and reset the
        // count on a right one) there too.
        const stored = await this.inner.get<unknown>(StoreTable.Meta, LOCK_FAILURES_KEY);
        this.failures = typeof stored === 'number' && Number.isSafeInteger(stored) && stored > 0 ? stored : 0;
        if (this.failures >= MAX_PASSCODE_ATTEMPTS) return { ok: false as const, attemptsLeft: 0, mustWipe: true };
        this.failures++;
        await this.inner.put(StoreTable.Meta, LOCK_FAILURES_KEY, this.failures);
        const kek = await derivePasscodeKey(passcode, settings);
        const key = await unwrapX25519PrivateKey(kek, settings.publicKey, settings.wrappedKey);
        if (key === null) {
          this.changed();
          const attemptsLeft = Math.max(0, MAX_PASSCODE_ATTEMPTS - this.failures);
          return { ok: false as const, attemptsLeft, mustWipe: attemptsLeft === 0 };
        }
        this.failures = 0;
        await this.inner.put(StoreTable.Meta, LOCK_FAILURES_KEY, 0);
        const current = settings.kdf === PASSCODE_KDF.argon2id ? { settings, kek } : await this.moveToArgon2id(passcode, settings, kek);
        if (this.historyKey === null) {
          this.historyKey = key;
          this.unlockedSignal.resolve();
        }
        this.changed();
        return { ok: true as const, ...current, key };
      }),
    );
    this.passcodeQueue = run.catch(() => {});
    return run;
  }

  /**
   * Rewraps a history key still wrapped under PBKDF2 (a store locked before Argon2id) under an
   * Argon2id key from the same passcode with a fresh salt, and replaces the stored settings
   * (SPEC LOCK-3). Runs under the passcode-check lock, right after `passcode` opened it. Returns
   * the settings and passcode key now in force: the old ones if the move did not happen.
   */
  private async moveToArgon2id(
    passcode: string,
    settings: StoredLockSettings,
    kek: CryptoKey,
  ): Promise<{ readonly settings: StoredLockSettings; readonly kek: CryptoKey }> {
    try {
      const kdf = newPasscodeKdfParams();
      const nextKek = await derivePasscodeKey(passcode, kdf);
      const wrappedKey = await rewrapX25519PrivateKey(kek, nextKek, settings.publicKey, settings.wrappedKey);
      if (wrappedKey === null) throw new Error('the history key did not unwrap with a passcode that just opened it');
      // Built on the record as stored now, and only if it is still the one this tab opened:
      // another tab may have moved it already, changed the passcode or "Lock after", or turned
      // the lock off, and none of that may be undone by a tab that read the settings earlier.
      const stored = parseSettings(await this.inner.get(StoreTable.Meta, LOCK_SETTINGS_KEY));
      if (stored === null || stored.kdf !== PASSCODE_KDF.pbkdf2 || !bytesEqual(stored.wrappedKey, settings.wrappedKey)) return { settings, kek };
      const next = withKdf(stored, kdf, wrappedKey);
      await this.inner.put(StoreTable.Meta, LOCK_SETTINGS_KEY, next);
      this.settings = next;
      return { settings: next, kek: nextKek };
    } catch {
      // The unlock itself succeeded, and the PBKDF2 record still opens: the next unlock tries again.
      return { settings, kek };
    }
  }

  /** What a read may use: the history key as of now, or a refusal when locked. */
  private reader(): { readonly key: CryptoKey | null; readonly generation: number } {
    if (this.settings !== null && this.historyKey === null) {
      throw new HistoryLockedError('the message history is locked: enter the passcode to read it', this.unlockedSignal.promise);
    }
    return { key: this.historyKey, generation: this.generation };
  }

  private assertStillUnlocked(reading: { readonly generation: number }): void {
    if (reading.generation !== this.generation) {
      throw new HistoryLockedError('the message history was locked while it was being read', this.unlockedSignal.promise);
    }
  }

  private async reveal(table: StoreTable, key: string, stored: unknown, reading: { readonly key: CryptoKey | null }): Promise<unknown> {
    // Plaintext: the lock is off, or a record written before it was turned on and not yet sealed.
    if (!isEnvelope(stored)) return stored;
    if (reading.key === null) throw new StoreCorruptError(`a sealed record (${table} ${JSON.stringify(key)}) is stored but the app lock is off`);
    return this.open(table, key, stored, reading.key);
  }

  private async open(table: StoreTable, key: string, envelope: SealedEnvelope, privateKey: CryptoKey): Promise<unknown> {
    const publicKey = this.settings?.publicKey;
    const opened = publicKey && (await openHistoryRecord({ publicKey, privateKey }, table, key, envelope.lockedRecord));
    if (!opened) throw new StoreCorruptError(`the sealed record ${table} ${JSON.stringify(key)} does not open with the history key`);
    return decodeRecord(opened);
  }

  /** Seals every plaintext record of the sealed tables, then marks the settings complete. Runs in the queue. */
  private async sealLeftovers(): Promise<void> {
    const settings = this.settings;
    if (settings === null) return;
    for (const table of SEALED_TABLES) {
      for (const [key, value] of await this.inner.list<unknown>(table)) {
        if (isEnvelope(value)) continue;
        const envelope: SealedEnvelope = { lockedRecord: await sealHistoryRecord(settings.publicKey, table, key, encodeRecord(value)) };
        await this.inner.put(table, key, envelope);
      }
    }
    const complete: StoredLockSettings = { ...settings, complete: true };
    await this.inner.put(StoreTable.Meta, LOCK_SETTINGS_KEY, complete);
    this.settings = complete;
  }

  /** Runs `operation` after every sealed-table call made before it. */
  private run<R>(operation: () => Promise<R>): Promise<R> {
    const result = this.queue.then(operation);
    this.queue = result.catch(() => {});
    return result;
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/** Reads the stored settings, refusing anything that is not exactly what `enable` writes. */
function parseSettings(value: unknown): StoredLockSettings | null {
  if (value === undefined) return null;
  const fail = (why: string): never => {
    throw new StoreCorruptError(`the app lock settings in the store are damaged: ${why}`);
  };
  if (typeof value !== 'object' || value === null) return fail('not a record');
  const record = value as Record<string, unknown>;
  if (record.version !== 1) fail(`unknown version ${String(record.version)}`);
  const bytes = (name: string, length?: number): Uint8Array => {
    const field = record[name];
    if (!(field instanceof Uint8Array) || (length !== undefined && field.length !== length)) return fail(`${name} is not ${length ?? 'some'} bytes`);
    return field;
  };
  let kdf: PasscodeKdfParams;
  if (record.kdf === PASSCODE_KDF.argon2id) {
    kdf = {
      kdf: PASSCODE_KDF.argon2id,
      salt: bytes('salt', 16),
      memoryKiB: record.memoryKiB as number,
      iterations: record.iterations as number,
      parallelism: record.parallelism as number,
    };
  } else if (record.kdf === PASSCODE_KDF.pbkdf2) {
    // Stores locked before Argon2id: read so that the next unlock can move them (LOCK-3).
    kdf = { kdf: PASSCODE_KDF.pbkdf2, salt: bytes('salt', 16), iterations: record.iterations as number };
  } else {
    return fail(`unknown key derivation ${String(record.kdf)}`);
  }
  try {
    // A record that weakens the derivation (less memory, fewer passes or iterations) is refused:
    // whoever can write the disk must not make the next passcode cheap to guess.
    checkPasscodeKdfParams(kdf);
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const lockAfterMinutes = record.lockAfterMinutes;
  if (!LOCK_AFTER_MINUTES.includes(lockAfterMinutes as LockAfterMinutes)) fail('lockAfterMinutes is not a known choice');
  if (typeof record.complete !== 'boolean') fail('complete is not a boolean');
  return withKdf(
    {
      version: 1,
      publicKey: bytes('publicKey', 32),
      wrappedKey: bytes('wrappedKey'),
      lockAfterMinutes: lockAfterMinutes as LockAfterMinutes,
      complete: record.complete as boolean,
    },
    kdf,
  );
}

/**
 * The settings `base` with the passcode key derivation `kdf` (and `wrappedKey`, when given),
 * built field by field: a PBKDF2 record's fields must not linger in an Argon2id one.
 */
function withKdf(base: LockSettingsRecord, kdf: PasscodeKdfParams | Argon2idPasscodeParams, wrappedKey = base.wrappedKey): StoredLockSettings {
  const common: LockSettingsRecord = {
    version: 1,
    publicKey: base.publicKey,
    wrappedKey,
    lockAfterMinutes: base.lockAfterMinutes,
    complete: base.complete,
  };
  return kdf.kdf === PASSCODE_KDF.argon2id
    ? { ...common, kdf: kdf.kdf, salt: kdf.salt, memoryKiB: kdf.memoryKiB, iterations: kdf.iterations, parallelism: kdf.parallelism }
    : { ...common, kdf: kdf.kdf, salt: kdf.salt, iterations: kdf.iterations };
}

/** The Web Lock under which a passcode is counted and checked, shared by the browser's tabs. */
const PASSCODE_CHECK_LOCK = 'pairwise-app-lock-passcode';

/** The part of the Web Locks API used here (browsers; absent in Node 20). */
interface LockManager {
  request<R>(name: string, callback: () => Promise<R>): Promise<R>;
}

/**
 * Runs `operation` holding the Web Lock `name`, so that no other tab of this browser runs one
 * under the same name meanwhile; where there are no Web Locks (Node) it just runs it.
 */
function acrossTabs<R>(name: string, operation: () => Promise<R>): Promise<R> {
  const locks = (globalThis as { readonly navigator?: { readonly locks?: LockManager } }).navigator?.locks;
  return locks === undefined ? operation() : locks.request(name, operation);
}

function deferred(): { readonly promise: Promise<void>; resolve(): void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((settle) => (resolve = settle));
  return { promise, resolve };
}
