/**
 * The server's clock as this device sees it. Lock-outs, retry times and expiry dates come from
 * the server in its own time; the device's clock may be off by a minute or more, so times are
 * shown after shifting them by the difference measured at the last security report.
 * @module
 */
import type { PairwiseClient } from '@pairwise/client/pairwise-client';

/** Converts server times to this device's clock. */
export interface ServerClock {
  /** The server's time now, as best known. */
  readonly now: () => number;
  /** A server time on this device's clock (for timers and for showing it). */
  readonly toLocal: (serverTime: number) => number;
}

const clocks = new WeakMap<PairwiseClient, ServerClock>();

/**
 * The clock of `client`'s server, one per client. Every security report (at each connection and
 * on every change) carries the server's time; the first call also asks for a fresh one, since the
 * report already held may be old.
 */
export function serverClock(client: PairwiseClient): ServerClock {
  let clock = clocks.get(client);
  if (clock !== undefined) return clock;
  let offset = client.security === null ? 0 : client.security.serverTime - Date.now();
  client.on('security', ({ security }) => {
    offset = security.serverTime - Date.now();
  });
  if (client.security !== null) client.refreshSecurity().catch(() => {});
  clock = {
    now: () => Date.now() + offset,
    toLocal: (serverTime) => serverTime - offset,
  };
  clocks.set(client, clock);
  return clock;
}
