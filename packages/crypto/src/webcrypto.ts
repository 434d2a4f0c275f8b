/**
 * The slice of WebCrypto that Pairwise uses, typed without the DOM or Node libraries.
 *
 * This package compiles with `lib: ["es2022"]` and no ambient types so that it cannot reach
 * `window`, `document`, `Buffer` or `node:` modules. WebCrypto is the one platform API it needs;
 * it is the same object in Node 20 (`globalThis.crypto`) and in every current browser, so it is
 * reached through `globalThis` and typed here, in module scope, with only what we call.
 * @module
 */

/** An opaque handle to a key held by the platform; non-extractable keys never reveal their bytes. */
export interface CryptoKey {
  readonly type: 'public' | 'private' | 'secret';
  readonly extractable: boolean;
  readonly algorithm: { readonly name: string };
  readonly usages: readonly string[];
}

/** A public/private key pair as WebCrypto returns it. */
export interface CryptoKeyPair {
  readonly publicKey: CryptoKey;
  readonly privateKey: CryptoKey;
}

/** Bytes in any of the forms WebCrypto accepts. */
export type BufferSource = ArrayBuffer | ArrayBufferView;

type AlgorithmName = 'X25519' | 'Ed25519' | 'HKDF' | 'AES-GCM' | 'PBKDF2';
type Algorithm =
  | AlgorithmName
  | { readonly name: AlgorithmName }
  | { readonly name: 'HMAC'; readonly hash: 'SHA-256' }
  | { readonly name: 'X25519'; readonly public: CryptoKey }
  | {
      readonly name: 'HKDF';
      readonly hash: 'SHA-256';
      readonly salt: BufferSource;
      readonly info: BufferSource;
    }
  | { readonly name: 'AES-GCM'; readonly length: 128 | 256 }
  | {
      readonly name: 'PBKDF2';
      readonly hash: 'SHA-256';
      readonly salt: BufferSource;
      readonly iterations: number;
    }
  | {
      readonly name: 'AES-GCM';
      readonly iv: BufferSource;
      readonly additionalData?: BufferSource;
      readonly tagLength?: number;
    };

/** The methods of `crypto.subtle` that Pairwise calls. */
export interface SubtleCrypto {
  generateKey(algorithm: Algorithm, extractable: boolean, usages: readonly string[]): Promise<CryptoKeyPair | CryptoKey>;
  importKey(
    format: 'raw' | 'pkcs8' | 'spki',
    keyData: BufferSource,
    algorithm: Algorithm,
    extractable: boolean,
    usages: readonly string[],
  ): Promise<CryptoKey>;
  exportKey(format: 'raw', key: CryptoKey): Promise<ArrayBuffer>;
  deriveBits(algorithm: Algorithm, baseKey: CryptoKey, length: number): Promise<ArrayBuffer>;
  deriveKey(
    algorithm: Algorithm,
    baseKey: CryptoKey,
    derivedKeyType: Algorithm,
    extractable: boolean,
    usages: readonly string[],
  ): Promise<CryptoKey>;
  wrapKey(format: 'pkcs8', key: CryptoKey, wrappingKey: CryptoKey, wrapAlgorithm: Algorithm): Promise<ArrayBuffer>;
  unwrapKey(
    format: 'pkcs8',
    wrappedKey: BufferSource,
    unwrappingKey: CryptoKey,
    unwrapAlgorithm: Algorithm,
    unwrappedKeyAlgorithm: Algorithm,
    extractable: boolean,
    usages: readonly string[],
  ): Promise<CryptoKey>;
  sign(algorithm: Algorithm, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer>;
  verify(algorithm: Algorithm, key: CryptoKey, signature: BufferSource, data: BufferSource): Promise<boolean>;
  encrypt(algorithm: Algorithm, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer>;
  decrypt(algorithm: Algorithm, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer>;
  digest(algorithm: 'SHA-256' | 'SHA-512', data: BufferSource): Promise<ArrayBuffer>;
}

interface Crypto {
  readonly subtle: SubtleCrypto;
  getRandomValues<T extends Uint8Array>(array: T): T;
}

interface TextCodecs {
  readonly TextEncoder: new () => { encode(input: string): Uint8Array };
  readonly TextDecoder: new (
    label: 'utf-8',
    options: { fatal: boolean },
  ) => { decode(input: Uint8Array): string };
}

function platformCrypto(): Crypto {
  const candidate = (globalThis as { crypto?: Crypto }).crypto;
  if (candidate?.subtle === undefined) {
    // Node 20 and all current browsers have it; an insecure browser context (plain http on a
    // non-localhost origin) does not, and nothing in Pairwise can work there.
    throw new Error('WebCrypto (globalThis.crypto.subtle) is not available: use Node 20+ or a secure browser context');
  }
  return candidate;
}

/** `crypto.subtle` of the running platform. */
export const subtle: SubtleCrypto = platformCrypto().subtle;

/** Fills `array` with cryptographically secure random bytes. */
export function fillRandom<T extends Uint8Array>(array: T): T {
  return platformCrypto().getRandomValues(array);
}

/** The platform's UTF-8 codecs (present in Node 20 and every browser, absent from lib es2022). */
export const textCodecs: TextCodecs = globalThis as unknown as TextCodecs;
