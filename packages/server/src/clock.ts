/** The server's notion of time, injectable so that tests can drive expiry with a fake clock. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** The machine's clock. */
export const systemClock: Clock = { now: () => Date.now() };

/**
 * A clock that tests can move forward, for expiry rules (link tokens, inbox lifetime, device
 * expiry). The server uses it only when started with PAIRWISE_TEST_CLOCK=1.
 */
export class AdjustableClock implements Clock {
  private offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** Moves time forward by `ms`. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('ms must be a non-negative number');
    this.offsetMs += ms;
  }
}
