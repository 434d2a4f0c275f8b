/**
 * AES-GCM (NIST SP 800-38D) on WebCrypto, with 128-bit tags.
 *
 * Keys are 128 or 256 bits and nonces 96 bits, the parameter set that behaves the same in every
 * WebCrypto we run on: Chromium has no AES-192, and Node's WebCrypto refuses several of the other
 * nonce lengths GCM defines. 96-bit nonces are also the length SP 800-38D section 8.2 recommends.
 * Anything else is refused with a `RangeError` before it reaches the platform, so code that works
 * in Node cannot fail in the browser. The protocol uses 256-bit keys.
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
  assertBytes(nonce, 'nonce', AES_GCM_NONCE_BYTES);
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
