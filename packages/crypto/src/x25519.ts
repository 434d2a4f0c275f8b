/**
 * X25519 (RFC 7748) on WebCrypto. Private keys are non-extractable `CryptoKey`s; public keys
 * travel as their 32 raw bytes.
 * @module
 */
import { assertBytes, InvalidPeerKeyError } from './errors.js';
import { subtle, type CryptoKey, type CryptoKeyPair } from './webcrypto.js';

/** Length of an X25519 public key and of a shared secret, in bytes. */
export const X25519_KEY_BYTES = 32;

/** An X25519 key pair: the private half stays inside WebCrypto. */
export interface X25519KeyPair {
  /** Raw 32-byte public key (RFC 7748 section 5). */
  readonly publicKey: Uint8Array;
  /** Non-extractable unless generated with `extractable: true`. */
  readonly privateKey: CryptoKey;
}

/** Options for key generation. */
export interface KeyGenerationOptions {
  /**
   * Whether the private key may be exported. Off by default and in every browser; only a
   * Node-side key store that must write keys to a file would turn it on.
   */
  readonly extractable?: boolean;
}

/** Makes a fresh X25519 key pair. */
export async function generateX25519KeyPair(options: KeyGenerationOptions = {}): Promise<X25519KeyPair> {
  const pair = (await subtle.generateKey({ name: 'X25519' }, options.extractable ?? false, [
    'deriveBits',
  ])) as CryptoKeyPair;
  const publicKey = new Uint8Array(await subtle.exportKey('raw', pair.publicKey));
  return { publicKey, privateKey: pair.privateKey };
}

/**
 * X25519(privateKey, peerPublicKey): the 32-byte shared secret.
 *
 * Throws `InvalidPeerKeyError` when the peer's key is not 32 bytes or is a low-order point
 * whose shared secret would be all zeros (RFC 7748 section 6.1: "check ... is not all-zero").
 * WebCrypto itself refuses the all-zero result; the check here does not rely on that.
 */
export async function x25519(privateKey: CryptoKey, peerPublicKey: Uint8Array): Promise<Uint8Array> {
  assertBytes(peerPublicKey, 'peerPublicKey');
  if (peerPublicKey.length !== X25519_KEY_BYTES) {
    throw new InvalidPeerKeyError(`X25519 public key must be 32 bytes, got ${peerPublicKey.length}`);
  }
  let shared: Uint8Array;
  try {
    const peer = await subtle.importKey('raw', peerPublicKey, { name: 'X25519' }, true, []);
    shared = new Uint8Array(await subtle.deriveBits({ name: 'X25519', public: peer }, privateKey, 256));
  } catch (error) {
    throw new InvalidPeerKeyError('X25519 with this public key failed (low-order or invalid point)', {
      cause: error,
    });
  }
  if (shared.every((byte) => byte === 0)) throw new InvalidPeerKeyError('X25519 shared secret is all zeros');
  return shared;
}
