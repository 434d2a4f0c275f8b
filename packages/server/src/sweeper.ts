/**
 * Periodic housekeeping: expire undelivered messages after the inbox lifetime and tell their
 * senders (SPEC INBOX-6), drop expired link requests, and record activity of connected devices
 * at minute resolution (SPEC DEVICES-4).
 * @module
 */
import type { ServerContext } from './context.js';

/** How often the sweeper runs. */
export const SWEEP_INTERVAL_MS = 60 * 1000;

/** One round of housekeeping; exported so tests can run it against a fake clock. */
export async function sweep(ctx: ServerContext): Promise<void> {
  const now = ctx.clock.now();
  const notices = await ctx.store.expireInbox(now);
  if (notices.length > 0) await ctx.bus.publish({ type: 'inbox', deviceIds: [...new Set(notices.map((row) => row.deviceId))] });
  await ctx.store.deleteExpiredLinks(now);
  for (const connection of ctx.hub.allDevices()) {
    if (connection.device) await ctx.store.touchDevice(connection.device.deviceId, now);
  }
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
