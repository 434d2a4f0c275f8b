/**
 * Byte helpers shared by every module: concatenation, constant-time comparison, hex, UTF-8,
 * random bytes and wiping.
 * @module
 */
import { assertBytes } from './errors.js';
import { fillRandom, textCodecs } from './webcrypto.js';

/** Joins byte arrays into one new array. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const [index, part] of parts.entries()) {
    assertBytes(part, `parts[${index}]`);
    length += part.length;
  }
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Compares two byte arrays in time that depends only on their lengths, so a comparison of a
 * secret (a MAC, a fingerprint) leaks nothing about where the first difference is.
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  assertBytes(a, 'a');
  assertBytes(b, 'b');
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

const HEX = '0123456789abcdef';

/** Lower-case hexadecimal of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  assertBytes(bytes, 'bytes');
  let out = '';
  for (const byte of bytes) out += (HEX[byte >> 4] as string) + (HEX[byte & 15] as string);
  return out;
}

/** Parses hexadecimal (either case); throws a `RangeError` on odd length or a non-hex digit. */
export function fromHex(hex: string): Uint8Array {
  if (typeof hex !== 'string') throw new TypeError('hex must be a string');
  if (hex.length % 2 !== 0) throw new RangeError('hex must have an even number of digits');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const pair = hex.slice(2 * i, 2 * i + 2);
    if (!/^[0-9a-fA-F]{2}$/.test(pair)) throw new RangeError(`hex has a non-hex digit at ${2 * i}`);
    out[i] = Number.parseInt(pair, 16);
  }
  return out;
}

const encoder = new textCodecs.TextEncoder();
const decoder = new textCodecs.TextDecoder('utf-8', { fatal: true });

/** UTF-8 encoding of `text`. */
export function utf8(text: string): Uint8Array {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  return encoder.encode(text);
}

/** Decodes UTF-8; throws a `TypeError` on invalid sequences (callers at the edge catch it). */
export function fromUtf8(bytes: Uint8Array): string {
  assertBytes(bytes, 'bytes');
  return decoder.decode(bytes);
}

// getRandomValues fills at most 65,536 bytes per call (WebCrypto QuotaExceededError above that).
const RANDOM_CHUNK = 65_536;

/** `length` cryptographically secure random bytes. */
export function randomBytes(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError('length must be a non-negative integer');
  const out = new Uint8Array(length);
  for (let offset = 0; offset < length; offset += RANDOM_CHUNK) {
    fillRandom(out.subarray(offset, Math.min(length, offset + RANDOM_CHUNK)));
  }
  return out;
}

/**
 * Overwrites secret bytes with zeros once they are no longer needed. JavaScript gives no
 * guarantee that no copy survives elsewhere in memory; this removes the copies we hold.
 */
export function wipe(...secrets: readonly (Uint8Array | null | undefined)[]): void {
  for (const secret of secrets) secret?.fill(0);
}
