// Token buckets per requester (SPEC LIMIT-8).
import { describe, expect, it } from 'vitest';
import { AddressBuckets } from './address-buckets.js';

describe('[LIMIT-8] AddressBuckets', () => {
  it('gives each requester its own burst, refills over time, and says when the next token comes', () => {
    let now = 0;
    const buckets = new AddressBuckets({ capacity: 3, refillMs: 3000, maxKeys: 10, now: () => now });
    for (let i = 0; i < 3; i++) expect(buckets.take('a')).toEqual({ ok: true });
    expect(buckets.take('a')).toEqual({ ok: false, retryAt: 1000 });
    expect(buckets.take('b')).toEqual({ ok: true });
    now = 1000;
    expect(buckets.take('a')).toEqual({ ok: true });
    expect(buckets.take('a').ok).toBe(false);
  });

  it('remembers at most maxKeys requesters, forgetting the one used longest ago', () => {
    const buckets = new AddressBuckets({ capacity: 1, refillMs: 60_000, maxKeys: 2, now: () => 0 });
    expect(buckets.take('a').ok).toBe(true);
    expect(buckets.take('b').ok).toBe(true);
    expect(buckets.take('b').ok).toBe(false);
    // A third requester pushes out "a", whose allowance starts afresh; "b" is still counted.
    expect(buckets.take('c').ok).toBe(true);
    expect(buckets.take('b').ok).toBe(false);
    expect(buckets.take('a').ok).toBe(true);
  });
});
