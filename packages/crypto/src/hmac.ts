/**
 * HMAC-SHA256 (RFC 2104) on WebCrypto.
 * @module
 */
import { bytesEqual } from './bytes.js';
import { assertBytes } from './errors.js';
import { subtle } from './webcrypto.js';

/** Full HMAC-SHA256 tag length in bytes. */
export const HMAC_SHA256_BYTES = 32;
/** Shortest truncated tag accepted (RFC 2104 section 5: not less than half the hash output). */
export const HMAC_SHA256_MIN_TAG_BYTES = 16;

async function importHmacKey(key: Uint8Array): Promise<Awaited<ReturnType<typeof subtle.importKey>>> {
  assertBytes(key, 'key');
  // WebCrypto refuses zero-length HMAC keys; so do we, with a clearer message.
  if (key.length === 0) throw new RangeError('key must not be empty');
  return subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
}

/** HMAC-SHA256(key, data): the 32-byte tag. */
export async function hmacSha256(key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  assertBytes(data, 'data');
  const cryptoKey = await importHmacKey(key);
  return new Uint8Array(await subtle.sign({ name: 'HMAC', hash: 'SHA-256' }, cryptoKey, data));
}

/**
 * Checks a tag, possibly truncated to its leading 16..32 bytes, in constant time.
 * Returns `false` for a wrong or wrongly sized tag; never throws for a peer's tag.
 */
export async function hmacSha256Verify(key: Uint8Array, data: Uint8Array, tag: Uint8Array): Promise<boolean> {
  assertBytes(tag, 'tag');
  const full = await hmacSha256(key, data);
  if (tag.length < HMAC_SHA256_MIN_TAG_BYTES || tag.length > HMAC_SHA256_BYTES) return false;
  return bytesEqual(full.subarray(0, tag.length), tag);
}
