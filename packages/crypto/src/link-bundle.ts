/**
 * The link bundle: what the phone sends a companion it links (account key, the companion's device
 * certificate, the new device list...), sealed to the companion's ephemeral X25519 key from the QR.
 *
 *     sealed = version (1) || phone ephemeral public key (32) || AES-256-GCM ciphertext
 *     key, nonce = HKDF(X25519(phone eph, companion eph), salt = 0^32, info = context)[0..44]
 *     context = label || token || origin || companion eph public || phone eph public
 *
 * The context is also the AEAD's associated data, so a bundle made for one link token or one
 * server origin opens nowhere else (SPEC LINK-*), and the relaying server, which knows the token
 * but not the companion's private key, can neither read nor forge it.
 * @module
 */
import { wipe } from './bytes.js';
import { DOMAIN } from './domains.js';
import { ByteWriter } from './encoding.js';
import { assertBytes, InvalidPeerKeyError } from './errors.js';
import { aesGcmDecrypt, aesGcmEncrypt, importAesGcmKey } from './aes-gcm.js';
import { hkdfSha256 } from './hkdf.js';
import { generateX25519KeyPair, x25519, type X25519KeyPair } from './x25519.js';

const LINK_BUNDLE_VERSION = 1;
const ZERO_SALT = new Uint8Array(32);
/** Largest bundle accepted, a guard against absurd inputs (a bundle is a few kilobytes). */
export const MAX_LINK_BUNDLE_BYTES = 256 * 1024;

/** What binds a bundle to one link. */
export interface LinkBinding {
  /** The link token from the QR code. */
  readonly token: Uint8Array;
  /** The server origin from the QR code, as `URL.origin` serialises it. */
  readonly origin: string;
}

function context(binding: LinkBinding, companionKey: Uint8Array, phoneKey: Uint8Array): Uint8Array {
  assertBytes(binding.token, 'token');
  if (typeof binding.origin !== 'string' || binding.origin.length === 0) throw new TypeError('origin must be a non-empty string');
  return new ByteWriter()
    .string(DOMAIN.linkBundle)
    .bytes(binding.token)
    .string(binding.origin)
    .fixed(companionKey, 32)
    .fixed(phoneKey, 32)
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
 * Phone side: seals `plaintext` to the companion's ephemeral public key from the QR code.
 * Throws `InvalidPeerKeyError` when that key is unusable.
 */
export async function sealLinkBundle(
  companionEphemeralKey: Uint8Array,
  binding: LinkBinding,
  plaintext: Uint8Array,
): Promise<Uint8Array> {
  assertBytes(companionEphemeralKey, 'companionEphemeralKey', 32);
  assertBytes(plaintext, 'plaintext');
  if (plaintext.length > MAX_LINK_BUNDLE_BYTES - 64) throw new RangeError('plaintext is too large for a link bundle');
  const phone = await generateX25519KeyPair();
  const info = context(binding, companionEphemeralKey, phone.publicKey);
  const { key, nonce } = await cipherFor(await x25519(phone.privateKey, companionEphemeralKey), info);
  const ciphertext = await aesGcmEncrypt(key, nonce, plaintext, info);
  return new ByteWriter().u8(LINK_BUNDLE_VERSION).fixed(phone.publicKey, 32).fixed(ciphertext, ciphertext.length).finish();
}

/**
 * Companion side: opens a bundle with the ephemeral key pair whose public half was in the QR.
 * Returns `null` when the bundle was made for another token, origin or key, or was changed.
 */
export async function openLinkBundle(
  companionEphemeral: X25519KeyPair,
  binding: LinkBinding,
  sealed: Uint8Array,
): Promise<Uint8Array | null> {
  assertBytes(sealed, 'sealed');
  if (sealed.length < 1 + 32 + 16 || sealed.length > MAX_LINK_BUNDLE_BYTES || sealed[0] !== LINK_BUNDLE_VERSION) return null;
  const phoneKey = sealed.slice(1, 33);
  const info = context(binding, companionEphemeral.publicKey, phoneKey);
  try {
    const { key, nonce } = await cipherFor(await x25519(companionEphemeral.privateKey, phoneKey), info);
    return await aesGcmDecrypt(key, nonce, sealed.subarray(33), info);
  } catch (error) {
    if (error instanceof InvalidPeerKeyError) return null;
    throw error;
  }
}
