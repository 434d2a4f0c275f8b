/**
 * A token bucket per requester (what `requesterKey` makes of an address), for limits such as new
 * accounts per address per hour (SPEC LIMIT-8). The map is bounded: past `maxKeys`, the bucket
 * used longest ago is forgotten, which can only give that requester a fresh allowance, never
 * take one from anybody else.
 * @module
 */

/** A bucket's size, refill and the clock. */
export interface AddressBucketOptions {
  /** Tokens a full bucket holds, and so the largest burst. */
  readonly capacity: number;
  /** Time in which an empty bucket fills completely, ms. */
  readonly refillMs: number;
  /** Requesters remembered at once. */
  readonly maxKeys: number;
  readonly now: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** `take` gives either a token or when the next one will be there. */
export type BucketTake = { readonly ok: true } | { readonly ok: false; readonly retryAt: number };

export class AddressBuckets {
  // Insertion order is use order: a bucket is moved to the end whenever it is used.
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly options: AddressBucketOptions) {}

  /** Takes one token of `key`'s bucket. */
  take(key: string): BucketTake {
    const bucket = this.current(key);
    if (bucket.tokens < 1) {
      const perMs = this.options.capacity / this.options.refillMs;
      return { ok: false, retryAt: bucket.at + Math.ceil((1 - bucket.tokens) / perMs) };
    }
    bucket.tokens -= 1;
    return { ok: true };
  }

  private current(key: string): Bucket {
    const now = this.options.now();
    const { capacity, refillMs } = this.options;
    const known = this.buckets.get(key);
    const bucket = known ?? { tokens: capacity, at: now };
    if (known !== undefined) {
      bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) * capacity) / refillMs);
      bucket.at = now;
      this.buckets.delete(key);
    }
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.options.maxKeys) {
      const [oldest] = this.buckets.keys();
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    return bucket;
  }
}
