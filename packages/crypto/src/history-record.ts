/**
 * Records of a companion's locked history: each sealed to the history X25519 public key with a
 * sealed box (sealed-box.ts), bound to the table and key it is stored under.
 *
 *     binding = label "Pairwise/v1/history-record" || table || key   (each length-prefixed)
 *
 * Sealing needs only the public key, so messages that arrive while the app is locked are stored
 * without the private key being anywhere in memory; opening needs the private key, which exists
 * only unwrapped from the passcode (passcode-key.ts). The binding stops a record from being moved
 * to another key or table (another chat, the outbox) and still opening.
 * @module
 */
import { DOMAIN } from './domains.js';
import { ByteWriter } from './encoding.js';
import { openSealedBox, sealToPublicKey, type SealedBoxRecipient } from './sealed-box.js';

function binding(table: string, key: string): Uint8Array {
  if (typeof table !== 'string' || table === '') throw new TypeError('table must be a non-empty string');
  if (typeof key !== 'string') throw new TypeError('key must be a string');
  return new ByteWriter().string(DOMAIN.historyRecord).string(table).string(key).finish();
}

/** Seals one stored record's bytes to the history public key, for `table` and `key`. */
export function sealHistoryRecord(historyPublicKey: Uint8Array, table: string, key: string, plaintext: Uint8Array): Promise<Uint8Array> {
  return sealToPublicKey(historyPublicKey, binding(table, key), plaintext);
}

/** Opens a record sealed for `table` and `key`; `null` if it was sealed for another place or key, or changed. */
export function openHistoryRecord(history: SealedBoxRecipient, table: string, key: string, sealed: Uint8Array): Promise<Uint8Array | null> {
  return openSealedBox(history, binding(table, key), sealed);
}
