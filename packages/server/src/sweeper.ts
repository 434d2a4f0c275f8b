/**
 * Periodic housekeeping: record activity of connected devices at minute resolution (SPEC
 * DEVICES-4), expire undelivered messages after the inbox lifetime and tell their senders (SPEC
 * INBOX-6), drop expired link requests, log out companions by the account's expiry policies
 * (SPEC EXPIRY-1, EXPIRY-2), warn when the phone has gone unused (SPEC EXPIRY-3), remove temporary
 * sessions whose tab closed (SPEC TEMP-1), and forget old security log entries (SPEC SECLOG-1).
 * @module
 */
import { SECURITY_LOG_TTL_MS } from '@pairwise/protocol/limits';
import { publishSecurityChanged } from './account-security.js';
import type { ServerContext } from './context.js';
import { removeDevice } from './device-removal.js';
import type { DeviceRow } from './store/store.js';
import { removeGoneTemporaryDevices } from './temporary-sessions.js';

/** How often the sweeper runs. */
export const SWEEP_INTERVAL_MS = 60 * 1000;

/** One round of housekeeping; exported so tests can run it against a fake clock. */
export async function sweep(ctx: ServerContext): Promise<void> {
  const now = ctx.clock.now();
  // First: a device connected right now is active now, whatever the expiry rules below decide
  // from the store (SPEC EXPIRY-1).
  await touchConnectedDevices(ctx, now);
  const notices = await ctx.store.expireInbox(now);
  if (notices.length > 0) await ctx.bus.publish({ type: 'inbox', deviceIds: [...new Set(notices.map((row) => row.deviceId))] });
  await ctx.store.deleteExpiredLinks(now);
  await expireDevices(ctx, now);
  await removeGoneTemporaryDevices(ctx, now);
  await ctx.store.pruneSecurityEvents(now - SECURITY_LOG_TTL_MS);
}

async function touchConnectedDevices(ctx: ServerContext, now: number): Promise<void> {
  const connected = new Map<string, boolean>();
  for (const connection of ctx.hub.allDevices()) {
    const device = connection.device;
    if (device !== null) connected.set(device.deviceId, device.temporary);
  }
  // One commit for all of them.
  await ctx.store.touchDevices([...connected.keys()], now);
  for (const [deviceId, temporary] of connected) {
    // Repairs a mark left by another node, or by this node's start, while the device is here.
    if (temporary) await ctx.store.setDisconnectedAt(deviceId, null);
  }
}

/** The expiry policies (SPEC EXPIRY-1, EXPIRY-2) and the "phone unused" warning (SPEC EXPIRY-3). */
async function expireDevices(ctx: ServerContext, now: number): Promise<void> {
  for (const companion of await ctx.store.listInactiveCompanions(now)) {
    // Touched above if connected, so never listed; read again in case it came back meanwhile.
    if (!(await stillIdle(ctx, companion))) continue;
    await removeDevice(ctx, companion, 'expiry');
  }
  for (const primary of await ctx.store.listUnusedPrimaries(now, 'expire')) {
    // The phone may have been opened since the list was read: then its computers stay.
    if (!(await stillIdle(ctx, primary))) continue;
    for (const device of await ctx.store.listDevices(primary.accountId)) {
      if (device.kind === 'companion') await removeDevice(ctx, device, 'phone-unused');
    }
  }
  for (const primary of await ctx.store.listUnusedPrimaries(now, 'warn')) {
    const security = await ctx.store.getSecurity(primary.accountId);
    // Once per idle spell: a phone used since the last warning starts a new spell.
    if (security === null || security.phoneWarningSentAt >= primary.lastActiveAt) continue;
    await ctx.store.updateSecurity(primary.accountId, { phoneWarningSentAt: now });
    await publishSecurityChanged(ctx, primary.accountId);
  }
}

/**
 * Whether a device listed as idle still is: not connected here, and not active (on any node)
 * since the list was read. Expiry lists are read once per sweep; removals come one by one after.
 */
async function stillIdle(ctx: ServerContext, listed: DeviceRow): Promise<boolean> {
  if (ctx.hub.isOnline(listed.deviceId)) return false;
  const current = await ctx.store.getDevice(listed.deviceId);
  return current !== null && current.lastActiveAt <= listed.lastActiveAt;
}

/** Starts the sweeper; returns a function that stops it. */
export function startSweeper(ctx: ServerContext, intervalMs = SWEEP_INTERVAL_MS): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweep(ctx)
      .catch((error: unknown) => ctx.log.error({ err: String(error) }, 'sweep failed'))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
