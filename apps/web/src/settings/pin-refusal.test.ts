import { RequestError } from '@pairwise/client/errors';
import { describe, expect, it } from 'vitest';
import { describePinRefusal } from './pin-refusal.js';

const NOW = 1_800_000_000_000;
/** The server's clock runs 5 minutes ahead of this device's. */
const SKEW = 5 * 60_000;
const toLocal = (serverTime: number) => serverTime - SKEW;

function refused(code: string, pin: { retryAt?: number; triesLeft?: number } = {}): RequestError {
  return new RequestError(code, 'refused', [], pin);
}

describe('[UI-1] describePinRefusal', () => {
  it('a wrong PIN says how many tries are left and clears the field', () => {
    expect(describePinRefusal(refused('PIN_WRONG', { triesLeft: 9 }), toLocal, NOW)).toEqual({
      message: 'Wrong PIN. 9 tries left.',
      waitUntil: null,
      clear: true,
    });
    expect(describePinRefusal(refused('PIN_WRONG', { triesLeft: 1 }), toLocal, NOW)?.message).toBe('Wrong PIN. 1 try left.');
  });

  it('a wrong PIN after the free tries also says when the next try is allowed, on this device’s clock', () => {
    const refusal = describePinRefusal(refused('PIN_WRONG', { triesLeft: 5, retryAt: NOW + SKEW + 30_000 }), toLocal, NOW);
    expect(refusal).toEqual({ message: 'Wrong PIN. 5 tries left. You can try again in 30 seconds.', waitUntil: NOW + 30_000, clear: true });
  });

  it('the wrong PIN that locks linking says so, and until when', () => {
    const refusal = describePinRefusal(refused('PIN_WRONG', { triesLeft: 0, retryAt: NOW + SKEW + 3_600_000 }), toLocal, NOW);
    expect(refusal?.waitUntil).toBe(NOW + 3_600_000);
    expect(refusal?.clear).toBe(true);
    expect(refusal?.message).toMatch(/^Wrong PIN\. That was the 10th in a row: linking is locked until .+ \(in 1 hour\)\.$/);
  });

  it('rate limited: waits until retryAt and keeps what was typed', () => {
    const refusal = describePinRefusal(refused('PIN_RATE_LIMITED', { retryAt: NOW + SKEW + 120_000 }), toLocal, NOW);
    expect(refusal?.waitUntil).toBe(NOW + 120_000);
    expect(refusal?.clear).toBe(false);
    expect(refusal?.message).toMatch(/^Too many wrong PINs\. You can try again at .+ \(in 2 minutes\)\.$/);
  });

  it('locked: says until when linking is locked', () => {
    const refusal = describePinRefusal(refused('PIN_LOCKED', { retryAt: NOW + SKEW + 3_600_000 }), toLocal, NOW);
    expect(refusal?.waitUntil).toBe(NOW + 3_600_000);
    expect(refusal?.message).toMatch(/^Too many wrong PINs: linking is locked until .+ \(in 1 hour\)\.$/);
  });

  it('a retry time already past is no wait at all', () => {
    const refusal = describePinRefusal(refused('PIN_RATE_LIMITED', { retryAt: NOW + SKEW - 1 }), toLocal, NOW);
    expect(refusal?.waitUntil).toBeNull();
  });

  it('PIN required and PIN not set are explained; other errors are not PIN refusals', () => {
    expect(describePinRefusal(refused('PIN_REQUIRED'), toLocal, NOW)?.message).toContain('enter your PIN');
    expect(describePinRefusal(refused('PIN_NOT_SET'), toLocal, NOW)?.message).toContain('off');
    expect(describePinRefusal(refused('FORBIDDEN'), toLocal, NOW)).toBeNull();
    expect(describePinRefusal(new Error('PIN_WRONG'), toLocal, NOW)).toBeNull();
  });
});
