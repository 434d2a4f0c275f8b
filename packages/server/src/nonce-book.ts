/**
 * The pending nonces of the HTTP log out (SPEC REVOKE-4), bounded per requester and in total so
 * that no flood can push out the nonce another device is about to sign. A requester is what
 * `requesterKey` makes of the client's address (an IPv4 address, an IPv6 /64).
 *
 * The bounds hold at every step:
 * - a requester holds at most `perRequester` nonces: its next one drops ITS oldest;
 * - the book holds at most `total`: expired nonces go first, and when it is still full a new
 *   requester is refused (`{ retryAt }`, the server's 429) rather than anyone's nonce dropped.
 *   Dropping from the largest holder instead would let many requesters, each under its own
 *   allowance, evict a quiet device's nonce; a refusal only delays a log out, which the SDK then
 *   does over its WebSocket.
 * @module
 */
import { randomBytes } from 'node:crypto';

/** The book's bounds and clock. */
export interface NonceBookOptions {
  /** Pending nonces one requester may hold; its oldest is dropped for a new one. */
  readonly perRequester: number;
  /** Pending nonces in all; the book never holds more. */
  readonly total: number;
  /** Life of a nonce, ms. */
  readonly ttlMs: number;
  /** The server's clock, ms since the Unix epoch. */
  readonly now: () => number;
}

/** A new nonce (base64url of 32 random bytes), or a refusal while the book is full. */
export type NonceIssue = { readonly nonce: string; readonly expiresAt: number } | { readonly retryAt: number };

interface Pending {
  readonly requester: string;
  readonly expiresAt: number;
}

/** Single-use challenge nonces, bounded per requester and in total. */
export class NonceBook {
  // In the order issued. The life is fixed and the clock moves forward, so this is also the order
  // of expiry: expired nonces are swept from the front, a few per call, with no timer per nonce.
  // (Should the system clock step back, a later nonce may expire before an earlier one: it then
  // waits at most one life longer to be swept, still within the bounds, and `take` checks expiry.)
  private readonly pending = new Map<string, Pending>();
  /** Each requester's nonces, oldest first; never more than `perRequester`, never empty. */
  private readonly byRequester = new Map<string, string[]>();

  /** @throws RangeError naming the option, for bounds that make no sense. */
  constructor(private readonly options: NonceBookOptions) {
    if (!Number.isInteger(options.perRequester) || options.perRequester < 1) {
      throw new RangeError('options.perRequester must be a positive integer');
    }
    if (!Number.isInteger(options.total) || options.total < options.perRequester) {
      throw new RangeError('options.total must be an integer of at least options.perRequester');
    }
    if (!(options.ttlMs > 0)) throw new RangeError('options.ttlMs must be positive');
  }

  /** Nonces held now, expired ones not yet swept included; never more than `options.total`. */
  get size(): number {
    return this.pending.size;
  }

  /** Issues a nonce to `requester`, dropping that requester's oldest if it holds its allowance. */
  issue(requester: string): NonceIssue {
    const now = this.options.now();
    this.sweep(now);
    const own = this.byRequester.get(requester);
    if (own !== undefined && own.length >= this.options.perRequester) {
      // Only the requester's own nonce makes room: it can never displace anyone else's.
      const oldest = own[0];
      if (oldest !== undefined) this.drop(oldest);
    } else if (this.pending.size >= this.options.total) {
      return { retryAt: this.oldestExpiry() + 1 };
    }
    const nonce = randomBytes(32).toString('base64url');
    const expiresAt = now + this.options.ttlMs;
    this.pending.set(nonce, { requester, expiresAt });
    const list = this.byRequester.get(requester);
    if (list === undefined) this.byRequester.set(requester, [nonce]);
    else list.push(nonce);
    return { nonce, expiresAt };
  }

  /**
   * Uses `nonce` up: `true` once if it was issued and has not expired, `false` otherwise (never
   * issued, used, dropped or expired). It is spent either way.
   */
  take(nonce: string): boolean {
    const entry = this.pending.get(nonce);
    if (entry === undefined) return false;
    this.drop(nonce);
    return entry.expiresAt >= this.options.now();
  }

  private sweep(now: number): void {
    for (const [nonce, entry] of this.pending) {
      if (entry.expiresAt >= now) return;
      this.drop(nonce);
    }
  }

  private oldestExpiry(): number {
    for (const entry of this.pending.values()) return entry.expiresAt;
    return this.options.now();
  }

  private drop(nonce: string): void {
    const entry = this.pending.get(nonce);
    if (entry === undefined) return;
    this.pending.delete(nonce);
    const list = this.byRequester.get(entry.requester);
    if (list === undefined) return;
    const index = list.indexOf(nonce);
    if (index >= 0) list.splice(index, 1);
    if (list.length === 0) this.byRequester.delete(entry.requester);
  }
}
