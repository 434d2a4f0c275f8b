/**
 * Temporary sessions (SPEC TEMP-1): a companion linked with "Keep me signed in" unticked is
 * removed once its socket has been gone for TEMPORARY_SESSION_GRACE_MS, so that closing the tab
 * on a public computer ends the session. The grace minute lets a flaky network or a reload of the
 * same page reconnect.
 *
 * The store keeps when the device's last socket closed (null while one is open). The node that
 * held the socket checks again once the minute is up; the sweeper removes whatever is left over
 * (a node that crashed, a check that was missed), and a starting node marks every temporary
 * device disconnected, since it holds no sockets yet.
 * @module
 */
import { TEMPORARY_SESSION_GRACE_MS } from '@pairwise/protocol/limits';
import type { ServerContext } from './context.js';
import { removeDevice } from './device-removal.js';

/** Records that a temporary device's last socket on this node closed. */
export async function temporaryDeviceWentAway(ctx: Pick<ServerContext, 'store' | 'clock'>, deviceId: string): Promise<void> {
  await ctx.store.setDisconnectedAt(deviceId, ctx.clock.now());
}

/** Removes the temporary device if it has been gone for the grace period and is not back. */
export async function removeTemporaryDeviceIfGone(ctx: ServerContext, deviceId: string): Promise<void> {
  const device = await ctx.store.getDevice(deviceId);
  if (device === null || !device.temporary || device.disconnectedAt === null) return;
  if (ctx.hub.isOnline(deviceId)) {
    await ctx.store.setDisconnectedAt(deviceId, null);
    return;
  }
  if (ctx.clock.now() - device.disconnectedAt < TEMPORARY_SESSION_GRACE_MS) return;
  await removeDevice(ctx, device, 'temporary');
}

/** The sweeper's part: every temporary device gone longer than the grace period is removed. */
export async function removeGoneTemporaryDevices(ctx: ServerContext, now: number): Promise<void> {
  for (const device of await ctx.store.listGoneTemporaryDevices(now - TEMPORARY_SESSION_GRACE_MS)) {
    // The list was read before the removals began: a device that came back since (here or on
    // another node, which cleared its mark) is read again rather than removed from a stale row.
    await removeTemporaryDeviceIfGone(ctx, device.deviceId);
  }
}
