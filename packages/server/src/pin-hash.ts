/**
 * The two-step PIN's hash (SPEC PIN-5): Argon2id with OWASP's parameters (19 MiB, 2 passes, one
 * lane), kept as its PHC string ("$argon2id$v=19$m=19456,t=2,p=1$salt$hash"), which carries its
 * own random salt and parameters. A six-digit PIN has only a million values, so the hash alone
 * would not stop someone holding the database; what stops guessing online is the server's count
 * of wrong tries (SPEC PIN-3). The hash keeps the PIN itself out of the database, its backups and
 * its logs.
 * @module
 */
import { hash, verify, type Options } from '@node-rs/argon2';

/** Argon2id: `Algorithm.Argon2id`, a const enum that isolated modules cannot read. */
const ARGON2ID = 2;

/** OWASP Password Storage Cheat Sheet: Argon2id, m=19456 KiB, t=2, p=1. */
export const PIN_HASH_OPTIONS: Options = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 };

/** The PHC string of a new hash of `pin`, with a fresh salt. */
export function hashPin(pin: string): Promise<string> {
  return hash(pin, PIN_HASH_OPTIONS);
}

/** Whether `pin` matches the stored PHC string; false (never an exception) for a damaged one. */
export async function pinMatches(phc: string, pin: string): Promise<boolean> {
  try {
    return await verify(phc, pin);
  } catch {
    return false;
  }
}
