/**
 * Device authentication: at every connection a device signs the server's fresh nonce with its
 * device signing key (SPEC AUTH-1). There is no bearer token to steal from a browser.
 *
 *     signed = label || origin || nonce || account id || device id || client time (u64, ms)
 *
 * The server's origin is inside the signature, so a phishing site that relays a real server's
 * challenge to a victim's device gets a signature that the real server refuses.
 * @module
 */
import { DOMAIN } from './domains.js';
import { ed25519Sign, ed25519Verify } from './ed25519.js';
import { ByteWriter } from './encoding.js';
import { assertBytes } from './errors.js';
import type { CryptoKey } from './webcrypto.js';

/** What a device signs to authenticate one connection. */
export interface DeviceChallenge {
  /** The server's public origin, as `URL.origin` serialises it. */
  readonly origin: string;
  readonly nonce: Uint8Array;
  readonly accountId: string;
  readonly deviceId: string;
  /** The device's clock, ms since the Unix epoch. */
  readonly clientTime: number;
  /**
   * What the signature authorises: opening a connection (the default) or the device's own log
   * out over HTTP. Each has its own label, so one can never be replayed as the other.
   */
  readonly purpose?: 'connect' | 'log-out';
}

function message(challenge: DeviceChallenge): Uint8Array {
  return new ByteWriter()
    .string(challenge.purpose === 'log-out' ? DOMAIN.deviceLogOut : DOMAIN.deviceAuth)
    .string(challenge.origin)
    .bytes(challenge.nonce)
    .string(challenge.accountId)
    .string(challenge.deviceId)
    .u64(challenge.clientTime)
    .finish();
}

/** Signs a challenge with the device signing key. */
export async function signDeviceChallenge(signingKey: CryptoKey, challenge: DeviceChallenge): Promise<Uint8Array> {
  assertBytes(challenge.nonce, 'challenge.nonce');
  return ed25519Sign(signingKey, message(challenge));
}

/** Checks a device's answer; `false` for anything wrong, never throws for a peer's data. */
export async function verifyDeviceChallenge(
  signingKey: Uint8Array,
  challenge: DeviceChallenge,
  signature: Uint8Array,
): Promise<boolean> {
  try {
    return await ed25519Verify(signingKey, message(challenge), signature);
  } catch {
    return false;
  }
}
