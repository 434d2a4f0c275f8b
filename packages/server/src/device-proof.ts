/**
 * The one check of a device's signature over a challenge nonce, for both things it authorises:
 * opening a connection (SPEC AUTH-1) and the device's own log out over HTTP (SPEC REVOKE-4).
 * Written once so that the two can never drift apart in what they accept or in which refusal
 * comes first.
 * @module
 */
import { verifyDeviceChallenge } from '@pairwise/crypto/device-auth';
import { ProtocolError } from '@pairwise/protocol/errors';
import { MAX_CLOCK_SKEW_MS } from '@pairwise/protocol/limits';
import type { ServerContext } from './context.js';
import type { DeviceRow } from './store/store.js';

/** What a device sent to prove it is itself, with the nonce its caller has already taken. */
export interface DeviceProof {
  /** The challenge nonce, already checked unused and unexpired and spent (SPEC AUTH-2). */
  readonly nonce: Uint8Array;
  readonly accountId: string;
  readonly deviceId: string;
  /** The device's clock, ms since the Unix epoch. */
  readonly clientTime: number;
  /** Ed25519, 64 bytes. */
  readonly signature: Uint8Array;
  /** What the signature authorises; each has its own label, so one is never taken for the other. */
  readonly purpose: 'connect' | 'log-out';
}

/**
 * Checks a device's proof after the version, field and nonce checks its caller made, in the
 * SPEC's order (AUTH-1): the clock, that the device exists, then that it belongs to the account
 * and signed this nonce for this server's origin.
 *
 * @returns the device, or `null` when no such device exists (it was removed or never was): the
 *   caller's "logged out" path (SPEC REVOKE-2, REVOKE-4), taken before any signature is checked.
 * @throws ProtocolError `CLOCK_SKEW` when the clocks differ by more than `MAX_CLOCK_SKEW_MS`
 *   (SPEC AUTH-3); `AUTH_FAILED` when the device is another account's or the signature does not verify.
 */
export async function verifyDeviceProof(ctx: ServerContext, proof: DeviceProof): Promise<DeviceRow | null> {
  // A time that is not a number (NaN, Infinity) is no clock at all: `Math.abs(NaN - now) > skew` is
  // false, so it must be refused on its own (SPEC AUTH-3).
  if (!Number.isFinite(proof.clientTime) || Math.abs(proof.clientTime - ctx.clock.now()) > MAX_CLOCK_SKEW_MS) {
    throw new ProtocolError('CLOCK_SKEW');
  }
  const device = await ctx.store.getDevice(proof.deviceId);
  if (device === null) return null;
  const { nonce, accountId, deviceId, clientTime, purpose } = proof;
  const valid =
    device.accountId === accountId &&
    (await verifyDeviceChallenge(
      device.signingKey,
      { origin: ctx.config.publicOrigin, nonce, accountId, deviceId, clientTime, purpose },
      proof.signature,
    ));
  if (!valid) throw new ProtocolError('AUTH_FAILED');
  return device;
}
