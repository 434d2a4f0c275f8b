/**
 * The tagged JSON encoding of the Node file store: how storable values (see `ClientStore`) are
 * written to disk and read back.
 *
 * JSON has strings, numbers, booleans, null, arrays and objects. Everything else is an object
 * with exactly one tag key, and so is every plain object, so that a stored object whose own key
 * happens to look like a tag can never be mistaken for one:
 *
 * - `{ "$object": { ...encoded members } }`: a plain object;
 * - `{ "$bytes": "base64" }`: a `Uint8Array` (RFC 4648 section 4 base64, with padding);
 * - `{ "$key": { jwk, algorithm, extractable, usages } }`: a `CryptoKey`, exported as a JWK
 *   (RFC 7517) and imported again on read, which is why the file store needs extractable keys.
 *
 * `-0` is written as `0` (JSON has no negative zero); no Pairwise record cares.
 * @module
 */
import { webcrypto } from 'node:crypto';
import { isCryptoKey } from '../platform.js';

/** A value as it sits in a store file. */
export type EncodedValue =
  | null
  | boolean
  | number
  | string
  | EncodedValue[]
  | { readonly $object: { readonly [name: string]: EncodedValue } }
  | { readonly $bytes: string }
  | { readonly $key: EncodedKey };

/** A `CryptoKey` as it sits in a store file. */
export interface EncodedKey {
  readonly jwk: webcrypto.JsonWebKey;
  readonly algorithm: EncodedAlgorithm;
  readonly extractable: boolean;
  readonly usages: readonly string[];
}

/** The members of `CryptoKey.algorithm` that `importKey` needs for the algorithms WebCrypto has. */
interface EncodedAlgorithm {
  readonly name: string;
  readonly hash?: string;
  readonly namedCurve?: string;
  readonly length?: number;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Encodes a value already checked by `assertStorableValue`. `where` names the entry in errors.
 * Rejects with a `TypeError` for a non-extractable `CryptoKey`, which cannot be written to a file.
 */
export async function encodeValue(value: unknown, where: string): Promise<EncodedValue> {
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') {
    return value;
  }
  if (Array.isArray(value)) {
    return Promise.all(value.map((item: unknown) => encodeValue(item, where)));
  }
  if (value instanceof Uint8Array) {
    return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  }
  if (isCryptoKey(value)) return { $key: await encodeKey(value as webcrypto.CryptoKey, where) };
  if (typeof value === 'object') {
    const members = await Promise.all(
      Object.entries(value).map(async ([name, item]) => [name, await encodeValue(item, where)] as const),
    );
    return { $object: Object.fromEntries(members) };
  }
  // assertStorableValue has refused everything else before we get here.
  throw new TypeError(`${where}: cannot encode a ${typeof value}`);
}

async function encodeKey(key: webcrypto.CryptoKey, where: string): Promise<EncodedKey> {
  if (!key.extractable) {
    throw new TypeError(
      `the file store needs extractable keys: the CryptoKey in ${where} is not extractable ` +
        '(create keys with extractable: true when store.needsExtractableKeys is true)',
    );
  }
  const algorithm = key.algorithm as webcrypto.KeyAlgorithm & {
    hash?: { name: string };
    namedCurve?: string;
    length?: number;
  };
  return {
    jwk: await webcrypto.subtle.exportKey('jwk', key),
    algorithm: {
      name: algorithm.name,
      ...(algorithm.hash === undefined ? {} : { hash: algorithm.hash.name }),
      ...(algorithm.namedCurve === undefined ? {} : { namedCurve: algorithm.namedCurve }),
      ...(algorithm.length === undefined ? {} : { length: algorithm.length }),
    },
    extractable: key.extractable,
    usages: [...key.usages],
  };
}

/** Decodes a value checked by `checkEncodedValue`, making fresh objects and importing keys. */
export async function decodeValue(encoded: EncodedValue): Promise<unknown> {
  if (encoded === null || typeof encoded !== 'object') return encoded;
  if (Array.isArray(encoded)) return Promise.all(encoded.map((item) => decodeValue(item)));
  if ('$bytes' in encoded) return new Uint8Array(Buffer.from(encoded.$bytes, 'base64'));
  if ('$key' in encoded) {
    const { jwk, algorithm, extractable, usages } = encoded.$key;
    return webcrypto.subtle.importKey(
      'jwk',
      jwk,
      algorithm,
      extractable,
      usages as webcrypto.KeyUsage[],
    );
  }
  const members = await Promise.all(
    Object.entries(encoded.$object).map(async ([name, item]) => [name, await decodeValue(item)] as const),
  );
  // fromEntries defines own properties, so a stored "__proto__" member stays a plain member
  // instead of replacing the object's prototype.
  return Object.fromEntries(members);
}

/**
 * Returns a description of the first thing wrong with `data` as an encoded value, or `null` if it
 * is well formed. Used when a file is loaded, so that damage is reported at open, not on some
 * later read.
 */
export function checkEncodedValue(data: unknown, path = ''): string | null {
  const at = path === '' ? 'value' : `value${path}`;
  if (data === null || typeof data === 'string' || typeof data === 'boolean') return null;
  if (typeof data === 'number') return Number.isFinite(data) ? null : `${at} is not a finite number`;
  if (Array.isArray(data)) {
    for (const [index, item] of data.entries()) {
      const problem = checkEncodedValue(item, `${path}[${index}]`);
      if (problem !== null) return problem;
    }
    return null;
  }
  if (!isJsonObject(data)) return `${at} is a ${typeof data}`;
  const tags = Object.keys(data);
  const tag = tags[0];
  if (tags.length !== 1 || tag === undefined) return `${at} has ${tags.length} members, expected one tag`;
  const body = data[tag];
  switch (tag) {
    case '$object': {
      if (!isJsonObject(body)) return `${at}.$object is not an object`;
      for (const [name, item] of Object.entries(body)) {
        const problem = checkEncodedValue(item, `${path}[${JSON.stringify(name)}]`);
        if (problem !== null) return problem;
      }
      return null;
    }
    case '$bytes':
      return typeof body === 'string' && BASE64.test(body) ? null : `${at}.$bytes is not base64`;
    case '$key':
      return checkEncodedKey(body, `${at}.$key`);
    default:
      return `${at} has an unknown tag ${JSON.stringify(tag)}`;
  }
}

function checkEncodedKey(data: unknown, at: string): string | null {
  if (!isJsonObject(data)) return `${at} is not an object`;
  const { jwk, algorithm, extractable, usages } = data;
  if (!isJsonObject(jwk) || typeof jwk.kty !== 'string') return `${at}.jwk is not a JWK`;
  if (!isJsonObject(algorithm) || typeof algorithm.name !== 'string') return `${at}.algorithm has no name`;
  if (typeof extractable !== 'boolean') return `${at}.extractable is not a boolean`;
  if (!Array.isArray(usages) || !usages.every((usage) => typeof usage === 'string')) {
    return `${at}.usages is not a list of strings`;
  }
  return null;
}

function isJsonObject(data: unknown): data is Record<string, unknown> {
  return typeof data === 'object' && data !== null && !Array.isArray(data);
}
