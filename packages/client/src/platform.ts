/**
 * The platform globals the client's pure code needs, typed without the DOM or Node libraries.
 *
 * Like `@pairwise/crypto`'s `webcrypto.ts`: this package compiles with `lib: ["es2022"]` and no
 * ambient types, so it cannot name `window` or `Buffer`. `structuredClone` and the `CryptoKey`
 * class are the same globals in Node 20 and every current browser, so they are reached through
 * `globalThis` and typed here, in module scope, with only what we use.
 * @module
 */

/** What the stores need to know about a WebCrypto key; the platform object has more. */
export interface CryptoKey {
  readonly type: 'public' | 'private' | 'secret';
  readonly extractable: boolean;
  readonly algorithm: { readonly name: string };
  readonly usages: readonly string[];
}

interface CloneGlobals {
  readonly structuredClone?: <T>(value: T) => T;
  readonly CryptoKey?: abstract new () => CryptoKey;
}

const platform = globalThis as CloneGlobals;

/**
 * A deep copy of `value` made by the platform's structured clone algorithm: the one IndexedDB
 * uses, and the only way to copy a `CryptoKey` without exporting it.
 */
export function structuredCloneValue<T>(value: T): T {
  const clone = platform.structuredClone;
  if (clone === undefined) {
    // Node 17+ and every current browser have it; without it no store can keep keys by value.
    throw new Error('structuredClone is not available: use Node 20+ or a current browser');
  }
  return clone(value);
}

/** Whether `value` is a WebCrypto `CryptoKey` of this platform. */
export function isCryptoKey(value: unknown): value is CryptoKey {
  if (typeof value !== 'object' || value === null) return false;
  const CryptoKeyClass = platform.CryptoKey;
  // The class is global in Node 20 and browsers; the tag is the fallback for a runtime that only
  // exposes keys through `crypto.subtle` (its keys still report themselves as CryptoKey).
  return CryptoKeyClass !== undefined
    ? value instanceof CryptoKeyClass
    : Object.prototype.toString.call(value) === '[object CryptoKey]';
}
