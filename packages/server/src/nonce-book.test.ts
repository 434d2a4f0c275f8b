import { describe, expect, it } from 'vitest';
import { NonceBook, type NonceIssue } from './nonce-book.js';

const TTL = 60_000;

function book(perRequester = 4, total = 100) {
  const clock = { time: 1_700_000_000_000 };
  const nonces = new NonceBook({ perRequester, total, ttlMs: TTL, now: () => clock.time });
  return { nonces, clock };
}

function issued(result: NonceIssue): string {
  if (!('nonce' in result)) throw new Error('the book refused a nonce');
  return result.nonce;
}

describe('[REVOKE-4] the nonce book', () => {
  it('issues 32 random bytes, each usable once, for CHALLENGE_TTL_MS', () => {
    const { nonces, clock } = book();
    const first = nonces.issue('192.0.2.1');
    expect('nonce' in first && first.expiresAt).toBe(clock.time + TTL);
    const nonce = issued(first);
    expect(Buffer.from(nonce, 'base64url')).toHaveLength(32);
    expect(issued(nonces.issue('192.0.2.1'))).not.toBe(nonce);
    expect(nonces.take(nonce)).toBe(true);
    expect(nonces.take(nonce)).toBe(false);
    expect(nonces.take('never-issued')).toBe(false);

    const lastMoment = issued(nonces.issue('192.0.2.1'));
    const late = issued(nonces.issue('192.0.2.1'));
    clock.time += TTL;
    expect(nonces.take(lastMoment)).toBe(true);
    clock.time += 1;
    // An expired nonce is refused and spent all the same.
    expect(nonces.take(late)).toBe(false);
  });

  it("a requester's next nonce drops its own oldest, never another requester's", () => {
    const { nonces } = book(4);
    const quiet = issued(nonces.issue('198.51.100.7'));
    const mine = Array.from({ length: 6 }, () => issued(nonces.issue('203.0.113.9')));
    expect(nonces.size).toBe(5);
    expect(nonces.take(mine[0]!)).toBe(false);
    expect(nonces.take(mine[1]!)).toBe(false);
    for (const nonce of mine.slice(2)) expect(nonces.take(nonce)).toBe(true);
    expect(nonces.take(quiet)).toBe(true);
  });

  it('a flood of other requesters never drops a pending nonce: once full, new requesters are refused', () => {
    const { nonces, clock } = book(4, 100);
    const quiet = issued(nonces.issue('198.51.100.7'));
    let refused = 0;
    for (let i = 0; i < 20_000; i++) {
      const result = nonces.issue(`flood-${i % 1000}`);
      if ('retryAt' in result) {
        refused++;
        // The oldest nonce's expiry frees the first place.
        expect(result.retryAt).toBe(clock.time + TTL + 1);
      }
      expect(nonces.size).toBeLessThanOrEqual(100);
    }
    expect(refused).toBeGreaterThan(0);
    expect(nonces.size).toBe(100);
    expect(nonces.take(quiet)).toBe(true);
  });

  it('a flood from one requester holds no more than its allowance', () => {
    const { nonces } = book(4, 100);
    for (let i = 0; i < 20_000; i++) issued(nonces.issue('203.0.113.9'));
    expect(nonces.size).toBe(4);
  });

  it('expired nonces are swept before a full book refuses anyone', () => {
    const { nonces, clock } = book(4, 100);
    for (let i = 0; i < 100; i++) issued(nonces.issue(`old-${i}`));
    expect('retryAt' in nonces.issue('newcomer')).toBe(true);
    clock.time += TTL + 1;
    const fresh = issued(nonces.issue('newcomer'));
    expect(nonces.size).toBe(1);
    expect(nonces.take(fresh)).toBe(true);
    expect(nonces.size).toBe(0);
  });

  it('refuses bounds that make no sense, naming them', () => {
    const now = () => 0;
    expect(() => new NonceBook({ perRequester: 0, total: 10, ttlMs: TTL, now })).toThrow(/perRequester/);
    expect(() => new NonceBook({ perRequester: 4, total: 3, ttlMs: TTL, now })).toThrow(/total/);
    expect(() => new NonceBook({ perRequester: 4, total: 10, ttlMs: 0, now })).toThrow(/ttlMs/);
  });
});
