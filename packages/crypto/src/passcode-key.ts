/**
 * Keys guarded by a passcode: an X25519 private key kept only wrapped under a key derived from
 * something a person types (a companion's app-lock passcode).
 *
 *     kek     = PBKDF2-HMAC-SHA256(NFC(passcode), salt (16 random bytes), iterations) as AES-256-GCM
 *     wrapped = nonce (12) || AES-256-GCM(kek, nonce, PKCS#8 of the private key, ad = label || public key)
 *
 * The iteration count is at least 600,000, OWASP's figure for PBKDF2-HMAC-SHA256 (2023): about
 * half a second per guess in a browser, which with a limit on attempts makes guessing pointless,
 * and a stolen disk still costs an attacker that much per guess. PBKDF2 because it is the one
 * password hash WebCrypto has everywhere.
 *
 * Wrapping and unwrapping go through `wrapKey` / `unwrapKey`, so the private key's bytes never
 * reach script: the key comes back as a non-extractable `CryptoKey`. The associated data binds a
 * wrapped key to its public key, so a wrapped key cannot be swapped for another one unnoticed.
 * @module
 */
import { AES_GCM_NONCE_BYTES, AES_GCM_TAG_BYTES } from './aes-gcm.js';
import { randomBytes, utf8, wipe } from './bytes.js';
import { DOMAIN } from './domains.js';
import { ByteWriter } from './encoding.js';
import { assertBytes } from './errors.js';
import { subtle, type CryptoKey, type CryptoKeyPair } from './webcrypto.js';
import { X25519_KEY_BYTES, type X25519KeyPair } from './x25519.js';

/** The fewest PBKDF2 iterations Pairwise derives a passcode key with. */
export const PASSCODE_MIN_ITERATIONS = 600_000;
/** Length of a passcode salt, in bytes. */
export const PASSCODE_SALT_BYTES = 16;

/** How a passcode key is derived; stored beside the wrapped key. */
export interface PasscodeKdfParams {
  readonly salt: Uint8Array;
  readonly iterations: number;
}

/** Fresh parameters: a random salt and `PASSCODE_MIN_ITERATIONS` (or more when asked). */
export function newPasscodeKdfParams(iterations = PASSCODE_MIN_ITERATIONS): PasscodeKdfParams {
  checkIterations(iterations);
  return { salt: randomBytes(PASSCODE_SALT_BYTES), iterations };
}

function checkIterations(iterations: number): void {
  if (!Number.isSafeInteger(iterations) || iterations < PASSCODE_MIN_ITERATIONS) {
    throw new RangeError(`PBKDF2 iterations must be an integer of at least ${PASSCODE_MIN_ITERATIONS}; got ${iterations}`);
  }
}

/**
 * The key-encryption key for `passcode`: a non-extractable AES-256-GCM key that can only wrap and
 * unwrap keys. The passcode is NFC-normalised first, so the same characters typed on different
 * keyboards give the same key.
 */
export async function derivePasscodeKey(passcode: string, params: PasscodeKdfParams): Promise<CryptoKey> {
  if (typeof passcode !== 'string' || passcode.length === 0) throw new TypeError('passcode must be a non-empty string');
  assertBytes(params.salt, 'salt', PASSCODE_SALT_BYTES);
  checkIterations(params.iterations);
  const secret = utf8(passcode.normalize('NFC'));
  try {
    const base = await subtle.importKey('raw', secret, 'PBKDF2', false, ['deriveKey']);
    return await subtle.deriveKey(
      { name: 'PBKDF2', hash: 'SHA-256', salt: params.salt, iterations: params.iterations },
      base,
      { name: 'AES-GCM', length: 256 },
      false,
      ['wrapKey', 'unwrapKey'],
    );
  } finally {
    wipe(secret);
  }
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
