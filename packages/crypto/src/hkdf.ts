/**
 * HKDF-SHA256 (RFC 5869) on WebCrypto.
 * @module
 */
import { assertBytes } from './errors.js';
import { subtle } from './webcrypto.js';

/** RFC 5869 section 2.3: L <= 255 * HashLen. */
export const HKDF_SHA256_MAX_BYTES = 255 * 32;

/**
 * HKDF-Extract-and-Expand with SHA-256: `length` bytes of output keying material.
 * An empty `salt` means HashLen zero bytes (RFC 5869 section 2.2).
 */
export async function hkdfSha256(
  ikm: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array,
  length: number,
): Promise<Uint8Array> {
  assertBytes(ikm, 'ikm');
  assertBytes(salt, 'salt');
  assertBytes(info, 'info');
  if (!Number.isInteger(length) || length < 1 || length > HKDF_SHA256_MAX_BYTES) {
    throw new RangeError(`length must be 1..${HKDF_SHA256_MAX_BYTES} bytes, got ${length}`);
  }
  const key = await subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  return new Uint8Array(await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info }, key, length * 8));
}
