/**
 * A token bucket: `ratePerSecond` on average, bursts up to `burst`. A refused take still costs a
 * token, so a sender that goes on past its refusals runs into debt; past `maxDebt` it is no longer
 * a client that slows down when told, whatever its pace (SPEC LIMIT-2).
 */
export class RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number,
    private readonly maxDebt = Infinity,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** How long until a take would be 'ok' again, ms (for the refusal's retry_at). */
  msUntilNext(): number {
    return Math.max(0, Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000));
  }

  /** Takes one token: 'ok', 'refused' when the bucket is empty, 'exceeded' past `maxDebt`. */
  take(): 'ok' | 'refused' | 'exceeded' {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
    this.tokens -= 1;
    if (this.tokens >= 0) return 'ok';
    return -this.tokens > this.maxDebt ? 'exceeded' : 'refused';
  }
}
