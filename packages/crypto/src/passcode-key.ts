/**
 * Keys guarded by a passcode: an X25519 private key kept only wrapped under a key derived from
 * something a person types (a companion's app-lock passcode).
 *
 *     kek     = Argon2id(NFC(passcode), salt (16 random bytes), m >= 64 MiB, t >= 3, p = 1) as AES-256-GCM
 *     wrapped = nonce (12) || AES-256-GCM(kek, nonce, PKCS#8 of the private key, ad = label || public key)
 *
 * Argon2id because a stolen disk must cost an attacker memory, not just time, per guess: each
 * guess needs 64 MiB written and read three times, which GPUs and ASICs cannot do by the thousand
 * the way they run PBKDF2. The minimum takes m = 2^16 KiB and t = 3 from RFC 9106 section 4's
 * second recommended option (which has p = 4; one lane here, since hash-wasm runs lanes one after
 * another): about half a second per guess on this project's machines (ADR 0011).
 *
 * Keys wrapped before that were derived with PBKDF2-HMAC-SHA256 (600,000 iterations, the one
 * password hash WebCrypto has): those parameters are still accepted so that such a key can be
 * unwrapped once and moved to Argon2id; `newPasscodeKdfParams` never makes them.
 *
 * Wrapping and unwrapping go through `wrapKey` / `unwrapKey`, so the private key's bytes never
 * reach script: the key comes back as a non-extractable `CryptoKey`. The associated data binds a
 * wrapped key to its public key, so a wrapped key cannot be swapped for another one unnoticed.
 * @module
 */
import { AES_GCM_NONCE_BYTES, AES_GCM_TAG_BYTES } from './aes-gcm.js';
import { argon2id } from './argon2id.js';
import { randomBytes, utf8, wipe } from './bytes.js';
import { DOMAIN } from './domains.js';
import { ByteWriter } from './encoding.js';
import { assertBytes, assertNever } from './errors.js';
import { subtle, type CryptoKey, type CryptoKeyPair } from './webcrypto.js';
import { X25519_KEY_BYTES, type X25519KeyPair } from './x25519.js';

/** The passcode key derivations, by the name stored beside a wrapped key. */
export const PASSCODE_KDF = {
  /** Every key wrapped now. */
  argon2id: 'argon2id',
  /** Keys wrapped before Argon2id: unwrapped to be moved, never made. */
  pbkdf2: 'PBKDF2-SHA256',
} as const;
/** One of `PASSCODE_KDF`. */
export type PasscodeKdf = (typeof PASSCODE_KDF)[keyof typeof PASSCODE_KDF];

/** Length of a passcode salt, in bytes. */
export const PASSCODE_SALT_BYTES = 16;
/** The least Argon2id memory a passcode key is derived with, in KiB (64 MiB). */
export const PASSCODE_ARGON2ID_MIN_MEMORY_KIB = 65_536;
/** The fewest Argon2id passes a passcode key is derived with. */
export const PASSCODE_ARGON2ID_MIN_ITERATIONS = 3;
/** Argon2id lanes: one, since hash-wasm computes lanes one after another anyway. */
export const PASSCODE_ARGON2ID_PARALLELISM = 1;
/**
 * The most a passcode derivation may ask for (1 GiB, 32 passes, 16 lanes): a damaged or planted
 * record must not make a tab allocate gigabytes or spin for minutes before anyone can log out.
 */
export const PASSCODE_ARGON2ID_MAX = { memoryKiB: 1_048_576, iterations: 32, parallelism: 16 } as const;
/** The fewest PBKDF2 iterations a legacy passcode key was derived with (OWASP 2023). */
export const PASSCODE_PBKDF2_MIN_ITERATIONS = 600_000;

/** Argon2id parameters of a passcode key; stored beside the wrapped key. */
export interface Argon2idPasscodeParams {
  readonly kdf: typeof PASSCODE_KDF.argon2id;
  readonly salt: Uint8Array;
  /** m, in KiB. */
  readonly memoryKiB: number;
  /** t, passes over the memory. */
  readonly iterations: number;
  /** p, lanes. */
  readonly parallelism: number;
}

/** PBKDF2-HMAC-SHA256 parameters of a passcode key wrapped before Argon2id. */
export interface Pbkdf2PasscodeParams {
  readonly kdf: typeof PASSCODE_KDF.pbkdf2;
  readonly salt: Uint8Array;
  readonly iterations: number;
}

/** How a passcode key is derived; stored beside the wrapped key. */
export type PasscodeKdfParams = Argon2idPasscodeParams | Pbkdf2PasscodeParams;

/**
 * Fresh parameters: Argon2id with a random salt and the minimum cost (or more when asked).
 * Throws a `RangeError` naming the parameter for a cost below the minimum or above the maximum.
 */
export function newPasscodeKdfParams(cost: { readonly memoryKiB?: number; readonly iterations?: number } = {}): Argon2idPasscodeParams {
  const params: Argon2idPasscodeParams = {
    kdf: PASSCODE_KDF.argon2id,
    salt: randomBytes(PASSCODE_SALT_BYTES),
    memoryKiB: cost.memoryKiB ?? PASSCODE_ARGON2ID_MIN_MEMORY_KIB,
    iterations: cost.iterations ?? PASSCODE_ARGON2ID_MIN_ITERATIONS,
    parallelism: PASSCODE_ARGON2ID_PARALLELISM,
  };
  checkPasscodeKdfParams(params);
  return params;
}

/**
 * Throws unless `params` are parameters a passcode key may be derived with: a 16-byte salt and,
 * for Argon2id, m >= 64 MiB and t >= 3 (within `PASSCODE_ARGON2ID_MAX`), for PBKDF2 at least
 * 600,000 iterations. A `TypeError` for a wrong type or an unknown derivation, a `RangeError`
 * naming the parameter otherwise. Readers of stored parameters call it to refuse weakened ones.
 */
export function checkPasscodeKdfParams(params: PasscodeKdfParams): void {
  if (typeof params !== 'object' || params === null) throw new TypeError('params must be passcode key derivation parameters');
  assertBytes(params.salt, 'salt', PASSCODE_SALT_BYTES);
  const kdf = params.kdf;
  switch (kdf) {
    case PASSCODE_KDF.argon2id:
      checkRange('memoryKiB', params.memoryKiB, PASSCODE_ARGON2ID_MIN_MEMORY_KIB, PASSCODE_ARGON2ID_MAX.memoryKiB);
      checkRange('iterations', params.iterations, PASSCODE_ARGON2ID_MIN_ITERATIONS, PASSCODE_ARGON2ID_MAX.iterations);
      checkRange('parallelism', params.parallelism, 1, PASSCODE_ARGON2ID_MAX.parallelism);
      return;
    case PASSCODE_KDF.pbkdf2:
      checkRange('iterations', params.iterations, PASSCODE_PBKDF2_MIN_ITERATIONS, Number.MAX_SAFE_INTEGER);
      return;
    default:
      throw new TypeError(`unknown passcode key derivation ${String(kdf)}`);
  }
}

function checkRange(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}; got ${String(value)}`);
  }
}

/**
 * The key-encryption key for `passcode`: a non-extractable AES-256-GCM key that can only wrap and
 * unwrap keys. The passcode is NFC-normalised first, so the same characters typed on different
 * keyboards give the same key.
 */
export async function derivePasscodeKey(passcode: string, params: PasscodeKdfParams): Promise<CryptoKey> {
  if (typeof passcode !== 'string' || passcode.length === 0) throw new TypeError('passcode must be a non-empty string');
  checkPasscodeKdfParams(params);
  const secret = utf8(passcode.normalize('NFC'));
  try {
    switch (params.kdf) {
      case PASSCODE_KDF.argon2id:
        return await argon2idKey(secret, params);
      case PASSCODE_KDF.pbkdf2:
        return await pbkdf2Key(secret, params);
      default:
        return assertNever(params);
    }
  } finally {
    wipe(secret);
  }
}

const KEK_USAGES = ['wrapKey', 'unwrapKey'] as const;

async function argon2idKey(secret: Uint8Array, params: Argon2idPasscodeParams): Promise<CryptoKey> {
  const raw = await argon2id(secret, params.salt, params, 32);
  try {
    return await subtle.importKey('raw', raw, 'AES-GCM', false, KEK_USAGES);
  } finally {
    // The key now lives only inside WebCrypto. (hash-wasm's WebAssembly memory, which held the
    // Argon2 blocks, is out of reach of a wipe: it is dropped with its instance after each call.)
    wipe(raw);
  }
}

async function pbkdf2Key(secret: Uint8Array, params: Pbkdf2PasscodeParams): Promise<CryptoKey> {
  const base = await subtle.importKey('raw', secret, 'PBKDF2', false, ['deriveKey']);
  return subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: params.salt, iterations: params.iterations },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    KEK_USAGES,
  );
}

function wrapAssociatedData(publicKey: Uint8Array): Uint8Array {
  return new ByteWriter().string(DOMAIN.historyKeyWrap).fixed(publicKey, X25519_KEY_BYTES).finish();
}

async function wrap(kek: CryptoKey, privateKey: CryptoKey, publicKey: Uint8Array): Promise<Uint8Array> {
  const nonce = randomBytes(AES_GCM_NONCE_BYTES);
  const wrapped = new Uint8Array(
    await subtle.wrapKey('pkcs8', privateKey, kek, {
      name: 'AES-GCM',
      iv: nonce,
      additionalData: wrapAssociatedData(publicKey),
      tagLength: 128,
    }),
  );
  return new ByteWriter().fixed(nonce, AES_GCM_NONCE_BYTES).fixed(wrapped, wrapped.length).finish();
}

/**
 * Makes a new X25519 key pair and wraps its private half under `kek`. Returns the public key,
 * the wrapped private key, and the private key itself as a non-extractable `CryptoKey` for use now.
 */
export async function generateWrappedX25519KeyPair(kek: CryptoKey): Promise<X25519KeyPair & { readonly wrapped: Uint8Array }> {
  // Extractable only so that wrapKey can read it; this object is dropped on return.
  const pair = (await subtle.generateKey({ name: 'X25519' }, true, ['deriveBits'])) as CryptoKeyPair;
  const publicKey = new Uint8Array(await subtle.exportKey('raw', pair.publicKey));
  const wrapped = await wrap(kek, pair.privateKey, publicKey);
  const privateKey = await unwrapX25519PrivateKey(kek, publicKey, wrapped);
  if (privateKey === null) throw new Error('a freshly wrapped key did not unwrap');
  return { publicKey, privateKey, wrapped };
}

/**
 * Unwraps a private key wrapped by `generateWrappedX25519KeyPair` (or `rewrapX25519PrivateKey`)
 * for `publicKey`. Returns `null` when `kek` is not the key it was wrapped under (a wrong
 * passcode) or the wrapped bytes were changed. The key comes back non-extractable unless asked.
 */
export async function unwrapX25519PrivateKey(
  kek: CryptoKey,
  publicKey: Uint8Array,
  wrapped: Uint8Array,
  options: { readonly extractable?: boolean } = {},
): Promise<CryptoKey | null> {
  assertBytes(publicKey, 'publicKey', X25519_KEY_BYTES);
  assertBytes(wrapped, 'wrapped');
  if (wrapped.length < AES_GCM_NONCE_BYTES + AES_GCM_TAG_BYTES) return null;
  try {
    return await subtle.unwrapKey(
      'pkcs8',
      wrapped.subarray(AES_GCM_NONCE_BYTES),
      kek,
      {
        name: 'AES-GCM',
        iv: wrapped.subarray(0, AES_GCM_NONCE_BYTES),
        additionalData: wrapAssociatedData(publicKey),
        tagLength: 128,
      },
      { name: 'X25519' },
      options.extractable ?? false,
      ['deriveBits'],
    );
  } catch {
    // An authentication failure (wrong key, changed bytes) is an answer, not an exception.
    return null;
  }
}

/**
 * Moves a wrapped private key from `oldKek` to `newKek` (a passcode change) without its bytes
 * reaching script. Returns `null` when `oldKek` does not open it.
 */
export async function rewrapX25519PrivateKey(
  oldKek: CryptoKey,
  newKek: CryptoKey,
  publicKey: Uint8Array,
  wrapped: Uint8Array,
): Promise<Uint8Array | null> {
  const privateKey = await unwrapX25519PrivateKey(oldKek, publicKey, wrapped, { extractable: true });
  return privateKey === null ? null : wrap(newKek, privateKey, publicKey);
}
