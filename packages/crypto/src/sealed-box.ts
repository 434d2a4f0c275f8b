/**
 * Sealing bytes to an X25519 public key: anyone holding the public key can seal, only the holder
 * of the private key can open. The sender needs no key of its own; each box brings a fresh
 * ephemeral key pair whose private half is dropped once the box is made.
 *
 *     sealed  = version (1) || ephemeral public key (32) || AES-256-GCM ciphertext with tag
 *     key, nonce = HKDF-SHA256(X25519(ephemeral, recipient), salt = 0^32, info = context)[0..44]
 *     context = binding || recipient public key (32) || ephemeral public key (32)
 *
 * `binding` is the caller's canonical encoding of a domain label (see `DOMAIN`) and of whatever
 * the box belongs to (a link token and origin; a table and key). The context is also the AEAD's
 * associated data, so a box made for one purpose or one place opens nowhere else (SPEC CRYPTO-4).
 * One key per box means the nonce never repeats under a key.
 *
 * Used by the link bundle (phone to companion) and by a companion's locked history (each record
 * sealed to the history key, so messages can be stored while the private half is locked away).
 * @module
 */
import { aesGcmDecrypt, aesGcmEncrypt, AES_GCM_TAG_BYTES, importAesGcmKey } from './aes-gcm.js';
import { wipe } from './bytes.js';
import { ByteWriter } from './encoding.js';
import { assertBytes, InvalidPeerKeyError } from './errors.js';
import { hkdfSha256 } from './hkdf.js';
import type { CryptoKey } from './webcrypto.js';
import { generateX25519KeyPair, x25519, X25519_KEY_BYTES } from './x25519.js';

const SEALED_BOX_VERSION = 1;
const ZERO_SALT = new Uint8Array(32);

/** Bytes a box adds to its plaintext: version, ephemeral key, tag. */
export const SEALED_BOX_OVERHEAD = 1 + X25519_KEY_BYTES + AES_GCM_TAG_BYTES;

/** Who can open a box: the recipient's public key and the private key that goes with it. */
export interface SealedBoxRecipient {
  readonly publicKey: Uint8Array;
  readonly privateKey: CryptoKey;
}

function context(binding: Uint8Array, recipientKey: Uint8Array, ephemeralKey: Uint8Array): Uint8Array {
  return new ByteWriter()
    .fixed(binding, binding.length)
    .fixed(recipientKey, X25519_KEY_BYTES)
    .fixed(ephemeralKey, X25519_KEY_BYTES)
    .finish();
}

async function cipherFor(shared: Uint8Array, info: Uint8Array) {
  const material = await hkdfSha256(shared, ZERO_SALT, info, 44);
  wipe(shared);
  const key = await importAesGcmKey(material.subarray(0, 32));
  const nonce = material.slice(32);
  wipe(material);
  return { key, nonce };
}

/**
 * Seals `plaintext` to `recipientPublicKey` (32 raw bytes), bound to `binding`.
 * Throws `InvalidPeerKeyError` when the recipient's key is unusable (wrong length, low order).
 */
export async function sealToPublicKey(recipientPublicKey: Uint8Array, binding: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array> {
  assertBytes(recipientPublicKey, 'recipientPublicKey', X25519_KEY_BYTES);
  assertBytes(binding, 'binding');
  assertBytes(plaintext, 'plaintext');
  const ephemeral = await generateX25519KeyPair();
  const info = context(binding, recipientPublicKey, ephemeral.publicKey);
  const { key, nonce } = await cipherFor(await x25519(ephemeral.privateKey, recipientPublicKey), info);
  const ciphertext = await aesGcmEncrypt(key, nonce, plaintext, info);
  return new ByteWriter().u8(SEALED_BOX_VERSION).fixed(ephemeral.publicKey, X25519_KEY_BYTES).fixed(ciphertext, ciphertext.length).finish();
}

/**
 * Opens a box sealed to `recipient` with the same `binding`. Returns `null` when it was sealed
 * to another key or binding, was changed, or is not a box at all.
 */
export async function openSealedBox(recipient: SealedBoxRecipient, binding: Uint8Array, sealed: Uint8Array): Promise<Uint8Array | null> {
  assertBytes(binding, 'binding');
  assertBytes(sealed, 'sealed');
  if (sealed.length < SEALED_BOX_OVERHEAD || sealed[0] !== SEALED_BOX_VERSION) return null;
  const ephemeralKey = sealed.slice(1, 1 + X25519_KEY_BYTES);
  const info = context(binding, recipient.publicKey, ephemeralKey);
  try {
    const { key, nonce } = await cipherFor(await x25519(recipient.privateKey, ephemeralKey), info);
    return await aesGcmDecrypt(key, nonce, sealed.subarray(1 + X25519_KEY_BYTES), info);
  } catch (error) {
    if (error instanceof InvalidPeerKeyError) return null;
    throw error;
  }
}
