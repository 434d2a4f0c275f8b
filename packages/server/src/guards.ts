/**
 * The per-server limiters that handlers share (SPEC LIMIT-7, LIMIT-8): built once per server from
 * its settings, so that every connection counts against the same bounds.
 * @module
 */
import { AddressBuckets } from './address-buckets.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import { WorkQueue } from './work-queue.js';

/**
 * Two-step PIN requests (each one or two Argon2id hashes) running at once: half of libuv's
 * default four threads, so that WebCrypto (sign-ins) always has the other half.
 */
export const PIN_WORK_CONCURRENCY = 2;
/** PIN requests waiting for a slot; more are refused with SERVER_BUSY. */
export const PIN_WORK_QUEUE = 16;
/** PIN requests of one account running or waiting at once: one phone makes one at a time. */
export const PIN_WORK_PER_ACCOUNT = 2;
/** Requesters whose registration allowance is remembered at once. */
const MAX_REGISTRATION_KEYS = 100_000;
const HOUR_MS = 60 * 60 * 1000;

/** What handlers use to bound expensive or abusable work. */
export interface ServerGuards {
  /** Every request that hashes or checks a two-step PIN runs in here, keyed by account. */
  readonly pinWork: WorkQueue;
  /** New accounts per requester (`requesterKey` of the address). */
  readonly registrations: AddressBuckets;
}

export function createGuards(config: Pick<Config, 'limits'>, clock: Clock): ServerGuards {
  const now = () => clock.now();
  return {
    pinWork: new WorkQueue({ concurrency: PIN_WORK_CONCURRENCY, queue: PIN_WORK_QUEUE, perKey: PIN_WORK_PER_ACCOUNT, retryAfterMs: 1000, now }),
    registrations: new AddressBuckets({
      capacity: config.limits.registrationsPerHourPerAddress,
      refillMs: HOUR_MS,
      maxKeys: MAX_REGISTRATION_KEYS,
      now,
    }),
  };
}
