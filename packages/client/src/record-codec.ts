/**
 * Storable values (see `ClientStore`) as bytes, so that a record can be sealed whole: tagged JSON
 * in UTF-8, in the spirit of the Node file store's encoding. Every plain object is
 * `{ "$object": { ... } }` and every `Uint8Array` is `{ "$bytes": "base64url" }`, so no stored
 * object can be mistaken for a tag. `CryptoKey`s cannot be encoded (their bytes are not
 * readable); the tables that are sealed (message history, outbox) never hold one.
 * @module
 */
import { fromUtf8, utf8 } from '@pairwise/crypto/bytes';
import { fromBase64Url, toBase64Url } from '@pairwise/protocol/base64url';
import { StoreCorruptError } from './store-errors.js';

type Encoded = null | boolean | number | string | Encoded[] | { readonly $object: Record<string, Encoded> } | { readonly $bytes: string };

/** Encodes a value already accepted by `assertStorableValue`; a `CryptoKey` in it is a `TypeError`. */
export function encodeRecord(value: unknown): Uint8Array {
  return utf8(JSON.stringify(encode(value)));
}

/** Decodes bytes made by `encodeRecord`; anything else is a `StoreCorruptError`. */
export function decodeRecord(bytes: Uint8Array): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromUtf8(bytes));
  } catch (error) {
    throw new StoreCorruptError('a sealed record is not valid tagged JSON', { cause: error });
  }
  return decode(parsed);
}

function encode(value: unknown): Encoded {
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') return value;
  if (Array.isArray(value)) return value.map(encode);
  if (value instanceof Uint8Array) return { $bytes: toBase64Url(value) };
  if (typeof value === 'object') {
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype === Object.prototype || prototype === null) {
      const members: Record<string, Encoded> = {};
      for (const [name, item] of Object.entries(value)) {
        Object.defineProperty(members, name, { value: encode(item), enumerable: true, writable: true, configurable: true });
      }
      return { $object: members };
    }
  }
  throw new TypeError(`a sealed record can hold plain objects, arrays, strings, numbers, booleans, null and Uint8Array; got ${describe(value)}`);
}

function decode(value: unknown): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') return value;
  if (Array.isArray(value)) return value.map(decode);
  if (typeof value === 'object') {
    const entries: [string, unknown][] = Object.entries(value as Record<string, unknown>);
    const [tag, inner] = entries[0] ?? [];
    if (entries.length === 1 && tag === '$bytes' && typeof inner === 'string') {
      const bytes = fromBase64Url(inner);
      if (bytes === null) throw new StoreCorruptError('a sealed record holds bytes that are not base64url');
      return bytes;
    }
    if (entries.length === 1 && tag === '$object' && typeof inner === 'object' && inner !== null && !Array.isArray(inner)) {
      const members: Record<string, unknown> = {};
      for (const [name, item] of Object.entries(inner as Record<string, unknown>)) {
        // defineProperty: a member named "__proto__" stays an ordinary member.
        Object.defineProperty(members, name, { value: decode(item), enumerable: true, writable: true, configurable: true });
      }
      return members;
    }
  }
  throw new StoreCorruptError('a sealed record holds a value of no known tag');
}

function describe(value: unknown): string {
  if (typeof value !== 'object' || value === null) return typeof value;
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? `a ${name}` : 'an object';
}
