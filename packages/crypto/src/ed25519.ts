/**
 * Ed25519 signatures (RFC 8032) on WebCrypto.
 * @module
 */
import { assertBytes } from './errors.js';
import type { KeyGenerationOptions } from './x25519.js';
import { subtle, type CryptoKey, type CryptoKeyPair } from './webcrypto.js';

/** Length of an Ed25519 public key in bytes. */
export const ED25519_PUBLIC_KEY_BYTES = 32;
/** Length of an Ed25519 signature in bytes. */
export const ED25519_SIGNATURE_BYTES = 64;

/** An Ed25519 key pair: the private half stays inside WebCrypto. */
export interface Ed25519KeyPair {
  /** Raw 32-byte public key (RFC 8032 section 5.1.5). */
  readonly publicKey: Uint8Array;
  readonly privateKey: CryptoKey;
}

/** Makes a fresh Ed25519 key pair. */
export async function generateEd25519KeyPair(options: KeyGenerationOptions = {}): Promise<Ed25519KeyPair> {
  const pair = (await subtle.generateKey({ name: 'Ed25519' }, options.extractable ?? false, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const publicKey = new Uint8Array(await subtle.exportKey('raw', pair.publicKey));
  return { publicKey, privateKey: pair.privateKey };
}

/** Signs `message`; returns the 64-byte signature. */
export async function ed25519Sign(privateKey: CryptoKey, message: Uint8Array): Promise<Uint8Array> {
  assertBytes(message, 'message');
  return new Uint8Array(await subtle.sign({ name: 'Ed25519' }, privateKey, message));
}

/**
 * Verifies an Ed25519 signature. Returns `false` for any bad input from a peer (wrong lengths,
 * an invalid key encoding, a non-canonical signature), never throws for those; throws a
 * `TypeError` only when an argument is not bytes at all.
 */
export async function ed25519Verify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  assertBytes(publicKey, 'publicKey');
  assertBytes(message, 'message');
  assertBytes(signature, 'signature');
  if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES || signature.length !== ED25519_SIGNATURE_BYTES) return false;
  try {
    const key = await subtle.importKey('raw', publicKey, { name: 'Ed25519' }, true, ['verify']);
    return await subtle.verify({ name: 'Ed25519' }, key, signature, message);
  } catch {
    return false;
  }
}
