/**
 * Keepalive: every socket is pinged once an interval, and one that did not answer the previous
 * ping is gone (a laptop lid closed, a network changed) and is terminated, so that it stops
 * counting as connected. The sockets are walked in slices with a turn of the event loop between
 * them: one ping is a socket write, and a single loop over 100,000 idle devices would hold every
 * delivery of the node for a second or more (docs/performance.md).
 * @module
 */

/** What the keepalive needs of a socket (a `ws` WebSocket). */
export interface PingedSocket {
  ping(): void;
  terminate(): void;
  on(event: 'pong' | 'close', listener: () => void): unknown;
}

/** Sockets pinged per turn of the event loop. */
export const KEEPALIVE_SLICE = 500;

export class Keepalive<S extends PingedSocket = PingedSocket> {
  /** Whether each socket answered the last ping. */
  private readonly alive = new Map<S, boolean>();
  private timer: NodeJS.Timeout | null = null;
  private walking = false;

  /** Watches a socket from now on, until it closes. */
  track(socket: S): void {
    this.alive.set(socket, true);
    socket.on('pong', () => {
      if (this.alive.has(socket)) this.alive.set(socket, true);
    });
    socket.on('close', () => this.alive.delete(socket));
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.round(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * One round: terminates every socket that has not answered since the last round and pings the
   * others, a slice at a time. A round still walking when the next is due lets that one pass.
   */
  async round(): Promise<void> {
    if (this.walking) return;
    this.walking = true;
    try {
      const sockets = [...this.alive.keys()];
      for (let start = 0; start < sockets.length; start += KEEPALIVE_SLICE) {
        if (start > 0) await new Promise((resolve) => setImmediate(resolve));
        for (const socket of sockets.slice(start, start + KEEPALIVE_SLICE)) {
          const answered = this.alive.get(socket);
          // Closed since the round began.
          if (answered === undefined) continue;
          if (!answered) {
            this.alive.delete(socket);
            socket.terminate();
            continue;
          }
          this.alive.set(socket, false);
          socket.ping();
        }
      }
    } finally {
      this.walking = false;
    }
  }
}
