/**
 * SHA-2 digests on WebCrypto.
 * @module
 */
import { assertBytes } from './errors.js';
import { subtle } from './webcrypto.js';

/** SHA-256(data). */
export async function sha256(data: Uint8Array): Promise<Uint8Array> {
  assertBytes(data, 'data');
  return new Uint8Array(await subtle.digest('SHA-256', data));
}

/** SHA-512(data). */
export async function sha512(data: Uint8Array): Promise<Uint8Array> {
  assertBytes(data, 'data');
  return new Uint8Array(await subtle.digest('SHA-512', data));
}
