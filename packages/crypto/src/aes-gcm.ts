/**
 * AES-GCM (NIST SP 800-38D) on WebCrypto, with 128-bit tags.
 *
 * Keys are 128 or 256 bits. 192-bit keys are refused on purpose: Chromium's WebCrypto does not
 * implement them, and code that worked in Node would then fail in the browser. The protocol
 * itself uses only 256-bit keys and 96-bit nonces; other non-empty nonce lengths are allowed
 * because GCM defines them (SP 800-38D section 7.1) and the published vectors cover them.
 * @module
 */
import { assertBytes } from './errors.js';
import type { KeyGenerationOptions } from './x25519.js';
import { subtle, type CryptoKey } from './webcrypto.js';

/** Nonce length used everywhere in Pairwise, in bytes. */
export const AES_GCM_NONCE_BYTES = 12;
/** Tag length, in bytes. */
export const AES_GCM_TAG_BYTES = 16;

/** Imports a raw AES key (16 or 32 bytes) for encryption and decryption. */
export async function importAesGcmKey(raw: Uint8Array, options: KeyGenerationOptions = {}): Promise<CryptoKey> {
  assertBytes(raw, 'raw');
  if (raw.length !== 16 && raw.length !== 32) {
    throw new RangeError(`AES-GCM key must be 16 or 32 bytes, got ${raw.length}`);
  }
  return subtle.importKey('raw', raw, { name: 'AES-GCM' }, options.extractable ?? false, ['encrypt', 'decrypt']);
}

/** Makes a random, non-extractable AES-256-GCM key. */
export async function generateAesGcmKey(options: KeyGenerationOptions = {}): Promise<CryptoKey> {
  return (await subtle.generateKey({ name: 'AES-GCM', length: 256 }, options.extractable ?? false, [
    'encrypt',
    'decrypt',
  ])) as CryptoKey;
}

function checkNonce(nonce: Uint8Array): void {
  assertBytes(nonce, 'nonce');
  if (nonce.length === 0) throw new RangeError('nonce must not be empty (SP 800-38D requires len(IV) >= 1)');
}

/** Encrypts; returns ciphertext followed by the 16-byte tag. */
export async function aesGcmEncrypt(
  key: CryptoKey,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  associatedData: Uint8Array = new Uint8Array(0),
): Promise<Uint8Array> {
  checkNonce(nonce);
  assertBytes(plaintext, 'plaintext');
  assertBytes(associatedData, 'associatedData');
  return new Uint8Array(
    await subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: associatedData, tagLength: 128 }, key, plaintext),
  );
}

/**
 * Decrypts ciphertext-with-tag. Returns `null` when authentication fails (a wrong key, nonce,
 * associated data, or any changed bit): a peer's bad ciphertext is an answer, not an exception.
 */
export async function aesGcmDecrypt(
  key: CryptoKey,
  nonce: Uint8Array,
  sealed: Uint8Array,
  associatedData: Uint8Array = new Uint8Array(0),
): Promise<Uint8Array | null> {
  checkNonce(nonce);
  assertBytes(sealed, 'sealed');
  assertBytes(associatedData, 'associatedData');
  if (sealed.length < AES_GCM_TAG_BYTES) return null;
  try {
    return new Uint8Array(
      await subtle.decrypt({ name: 'AES-GCM', iv: nonce, additionalData: associatedData, tagLength: 128 }, key, sealed),
    );
  } catch {
    return null;
  }
}
