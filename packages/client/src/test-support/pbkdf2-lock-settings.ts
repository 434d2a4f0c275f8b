/**
 * A store locked before Argon2id, for the tests of its upgrade (SPEC LOCK-3): writes the app-lock
 * settings record exactly as `HistoryLockStore.enable` wrote it then, the history key wrapped
 * under PBKDF2-HMAC-SHA256 with 600,000 iterations, straight into the inner store.
 * @module
 */
import { randomBytes } from '@pairwise/crypto/bytes';
import { derivePasscodeKey, generateWrappedX25519KeyPair, PASSCODE_KDF } from '@pairwise/crypto/passcode-key';
import { StoreTable, type ClientStore } from '../client-store.js';
import { LOCK_FAILURES_KEY, LOCK_SETTINGS_KEY, type LockAfterMinutes } from '../history-lock.js';

/** The record a PBKDF2-era store holds under `LOCK_SETTINGS_KEY`. */
export interface Pbkdf2LockSettings {
  readonly version: 1;
  readonly kdf: 'PBKDF2-SHA256';
  readonly salt: Uint8Array;
  readonly iterations: number;
  readonly publicKey: Uint8Array;
  readonly wrappedKey: Uint8Array;
  readonly lockAfterMinutes: LockAfterMinutes;
  readonly complete: boolean;
}

/**
 * Locks `inner` (with no lock yet) under `passcode` as the PBKDF2-era code did, with a fresh
 * history key pair. Returns the record written. Open a `HistoryLockStore` on `inner` afterwards.
 */
export async function writePbkdf2LockSettings(inner: ClientStore, passcode: string, lockAfterMinutes: LockAfterMinutes = 15): Promise<Pbkdf2LockSettings> {
  const kdf = { kdf: PASSCODE_KDF.pbkdf2, salt: randomBytes(16), iterations: 600_000 } as const;
  const pair = await generateWrappedX25519KeyPair(await derivePasscodeKey(passcode, kdf));
  const settings: Pbkdf2LockSettings = {
    version: 1,
    kdf: 'PBKDF2-SHA256',
    salt: kdf.salt,
    iterations: kdf.iterations,
    publicKey: pair.publicKey,
    wrappedKey: pair.wrapped,
    lockAfterMinutes,
    complete: true,
  };
  await inner.put(StoreTable.Meta, LOCK_SETTINGS_KEY, settings);
  await inner.put(StoreTable.Meta, LOCK_FAILURES_KEY, 0);
  return settings;
}
