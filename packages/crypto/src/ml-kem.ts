/**
 * ML-KEM-768 (FIPS 203) through @noble/post-quantum. WebCrypto has no ML-KEM yet, so this is
 * the one primitive in pure JavaScript; its secret key is a byte array, not a CryptoKey.
 * @module
 */
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { randomBytes } from './bytes.js';
import { assertBytes, InvalidPeerKeyError, MalformedInputError } from './errors.js';

/** FIPS 203 table 3, ML-KEM-768: encapsulation key length in bytes. */
export const ML_KEM_768_PUBLIC_KEY_BYTES = 1184;
/** Decapsulation key length in bytes. */
export const ML_KEM_768_SECRET_KEY_BYTES = 2400;
/** Ciphertext length in bytes. */
export const ML_KEM_768_CIPHERTEXT_BYTES = 1088;
/** Shared secret length in bytes. */
export const ML_KEM_SHARED_SECRET_BYTES = 32;
/** Key generation seed (d || z) length in bytes. */
export const ML_KEM_SEED_BYTES = 64;

/** An ML-KEM-768 key pair. */
export interface MlKemKeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/** Result of encapsulating to a public key. */
export interface MlKemEncapsulation {
  readonly ciphertext: Uint8Array;
  readonly sharedSecret: Uint8Array;
}

/**
 * Makes an ML-KEM-768 key pair, from a fresh random seed unless a 64-byte `seed` is given
 * (FIPS 203 ML-KEM.KeyGen_internal(d, z); a given seed is for published vectors).
 */
export function generateMlKemKeyPair(seed: Uint8Array = randomBytes(ML_KEM_SEED_BYTES)): MlKemKeyPair {
  assertBytes(seed, 'seed', ML_KEM_SEED_BYTES);
  const { publicKey, secretKey } = ml_kem768.keygen(seed.slice());
  return { publicKey, secretKey };
}

/**
 * Encapsulates a fresh shared secret to a peer's public key. Throws `InvalidPeerKeyError` when
 * the key is the wrong length or fails the FIPS 203 section 7.2 modulus check. `randomness`
 * (32 bytes) is only for published vectors.
 */
export function mlKemEncapsulate(publicKey: Uint8Array, randomness?: Uint8Array): MlKemEncapsulation {
  assertBytes(publicKey, 'publicKey');
  if (randomness !== undefined) assertBytes(randomness, 'randomness', 32);
  if (publicKey.length !== ML_KEM_768_PUBLIC_KEY_BYTES) {
    throw new InvalidPeerKeyError(`ML-KEM-768 public key must be ${ML_KEM_768_PUBLIC_KEY_BYTES} bytes`);
  }
  try {
    const { cipherText, sharedSecret } = ml_kem768.encapsulate(publicKey.slice(), randomness?.slice());
    return { ciphertext: cipherText, sharedSecret };
  } catch (error) {
    throw new InvalidPeerKeyError('ML-KEM-768 public key is not valid (modulus check)', { cause: error });
  }
}

/**
 * Decapsulates a peer's ciphertext. A well-formed but wrong ciphertext yields an unrelated
 * secret (implicit rejection, FIPS 203 section 6.3), so the caller's AEAD is what rejects it;
 * a ciphertext of the wrong length throws `MalformedInputError`.
 */
export function mlKemDecapsulate(ciphertext: Uint8Array, secretKey: Uint8Array): Uint8Array {
  assertBytes(ciphertext, 'ciphertext');
  assertBytes(secretKey, 'secretKey', ML_KEM_768_SECRET_KEY_BYTES);
  if (ciphertext.length !== ML_KEM_768_CIPHERTEXT_BYTES) {
    throw new MalformedInputError(`ML-KEM-768 ciphertext must be ${ML_KEM_768_CIPHERTEXT_BYTES} bytes`);
  }
  // Copies: the library may wipe or retain what it is given.
  return ml_kem768.decapsulate(ciphertext.slice(), secretKey.slice());
}
