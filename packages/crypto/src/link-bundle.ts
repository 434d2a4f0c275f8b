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
 * but not the companion's private key, can neither read nor forge it. The mechanism is the
 * generic sealed box (sealed-box.ts); these bytes are what it produces for the link's binding.
 * @module
 */
import { DOMAIN } from './domains.js';
import { ByteWriter } from './encoding.js';
import { assertBytes } from './errors.js';
import { openSealedBox, sealToPublicKey } from './sealed-box.js';
import type { X25519KeyPair } from './x25519.js';

/** Largest bundle accepted, a guard against absurd inputs (a bundle is a few kilobytes). */
export const MAX_LINK_BUNDLE_BYTES = 256 * 1024;

/** What binds a bundle to one link. */
export interface LinkBinding {
  /** The link token from the QR code. */
  readonly token: Uint8Array;
  /** The server origin from the QR code, as `URL.origin` serialises it. */
  readonly origin: string;
}

/** label || token || origin: the sealed box appends both public keys to make the context above. */
function bindingBytes(binding: LinkBinding): Uint8Array {
  assertBytes(binding.token, 'token');
  if (typeof binding.origin !== 'string' || binding.origin.length === 0) throw new TypeError('origin must be a non-empty string');
  return new ByteWriter().string(DOMAIN.linkBundle).bytes(binding.token).string(binding.origin).finish();
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
  return sealToPublicKey(companionEphemeralKey, bindingBytes(binding), plaintext);
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
  if (sealed.length > MAX_LINK_BUNDLE_BYTES) return null;
  return openSealedBox(companionEphemeral, bindingBytes(binding), sealed);
}
