/**
 * Removing a device, the one way it is done whoever does it (SPEC REVOKE-1, SECLOG-1): the phone
 * removing a companion, a companion logging itself out, expiry of an inactive companion, every
 * companion when the phone goes unused, and a temporary session whose tab closed.
 *
 * The store forgets the device (keys, prekeys, inbox), its sockets on every node are told
 * "logged out" and closed, the primary is told when it did not do it itself (so that it re-signs
 * its list without the device), every device of the account and its contacts get the changed
 * list, and the security log records who did it and from which network.
 * @module
 */
import type { RemovalActor } from '@pairwise/protocol/security-log';
import { logSecurityEvent } from './account-security.js';
import type { ServerContext } from './context.js';
import type { DeviceRow, ListUpdate } from './store/store.js';

/** Who removed a device, as the security log names it. */
export type { RemovalActor };

/** What the removed device hears (LoggedOut.reason) for each actor. */
const LOGGED_OUT_REASON = {
  phone: 'removed',
  device: 'logged-out',
  expiry: 'expired',
  'phone-unused': 'expired',
  temporary: 'expired',
} as const satisfies Record<RemovalActor, 'removed' | 'logged-out' | 'expired'>;

/** Options of a removal. */
export interface RemovalOptions {
  /** The phone's new signed list without the device (only when the phone removes it). */
  readonly update?: ListUpdate | null;
  /** Coarse network of the request that removed it ('' for the server's own decisions). */
  readonly network?: string;
  /**
   * Runs the notices (sockets closed, lists pushed). By default they run before the call returns;
   * a device logging itself out over its own socket defers them until it has heard "ok".
   */
  readonly notify?: (notices: () => Promise<void>) => void;
}

/**
 * Removes `device` on behalf of `actor`. Returns the store's outcome; nothing is told or logged
 * unless it is 'removed' (a device removed twice at once is removed, told and logged once).
 */
export async function removeDevice(
  ctx: Pick<ServerContext, 'store' | 'bus' | 'clock'>,
  device: Pick<DeviceRow, 'deviceId' | 'accountId' | 'name'>,
  actor: RemovalActor,
  options: RemovalOptions = {},
): Promise<'removed' | 'unknown-device' | 'stale-list'> {
  const { deviceId, accountId } = device;
  const result = await ctx.store.removeDevice(deviceId, options.update ?? null);
  if (result !== 'removed') return result;
  await logSecurityEvent(ctx, accountId, { kind: 'device-removed', deviceId, deviceName: device.name, actor, network: options.network ?? '' });
  const reason = LOGGED_OUT_REASON[actor];
  const notices = async (): Promise<void> => {
    await ctx.bus.publish({ type: 'revoke', deviceId, reason });
    if (actor !== 'phone') await ctx.bus.publish({ type: 'device-removed', accountId, deviceId, reason });
    await ctx.bus.publish({ type: 'device-list', accountId });
  };
  if (options.notify) options.notify(notices);
  else await notices();
  return 'removed';
}
