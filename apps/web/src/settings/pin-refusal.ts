/**
 * What to tell someone whose two-step PIN was refused, and how long the PIN field stays shut
 * (SPEC PIN-3: growing waits after 5 wrong PINs, locked for an hour at 10). Shared by the link
 * confirmation, the PIN settings and the reminder, so that each says the same thing.
 * @module
 */
import { RequestError } from '@pairwise/client/errors';
import { formatIn, formatUntil } from '../alerts/format-until.js';

/** A refused PIN, in words. */
export interface PinRefusal {
  readonly message: string;
  /** Until when (this device's clock) no PIN can be tried; null when one can be tried now. */
  readonly waitUntil: number | null;
  /** The PIN typed was wrong: empty the field for the next try. */
  readonly clear: boolean;
}

/**
 * Describes a PIN refusal, or returns null when `error` is not one. `toLocal` converts the
 * server's times to this device's clock; `now` is this device's clock.
 */
export function describePinRefusal(error: unknown, toLocal: (serverTime: number) => number, now = Date.now()): PinRefusal | null {
  if (!(error instanceof RequestError)) return null;
  const waitUntil = error.retryAt > 0 && toLocal(error.retryAt) > now ? toLocal(error.retryAt) : null;
  const code = error.code;
  if (code === 'PIN_WRONG') {
    if (error.triesLeft === 0) {
      const until = waitUntil === null ? 'for an hour' : `until ${formatUntil(waitUntil, now)}`;
      return { message: `Wrong PIN. That was the 10th in a row: linking is locked ${until}.`, waitUntil, clear: true };
    }
    const tries = error.triesLeft === 1 ? '1 try left' : `${error.triesLeft} tries left`;
    const wait = waitUntil === null ? '' : ` You can try again ${formatIn(waitUntil, now)}.`;
    return { message: `Wrong PIN. ${tries}.${wait}`, waitUntil, clear: true };
  }
  if (code === 'PIN_RATE_LIMITED') {
    return {
      message:
        waitUntil === null
          ? 'Too many wrong PINs. Wait a moment before trying again.'
          : `Too many wrong PINs. You can try again at ${formatUntil(waitUntil, now)}.`,
      waitUntil,
      clear: false,
    };
  }
  if (code === 'PIN_LOCKED') {
    return {
      message:
        waitUntil === null
          ? 'Too many wrong PINs: linking is locked for an hour.'
          : `Too many wrong PINs: linking is locked until ${formatUntil(waitUntil, now)}.`,
      waitUntil,
      clear: false,
    };
  }
  if (code === 'PIN_REQUIRED') return { message: 'Two-step verification is on: enter your PIN to continue.', waitUntil: null, clear: false };
  if (code === 'PIN_NOT_SET') return { message: 'Two-step verification is off, so there is no PIN to check.', waitUntil: null, clear: false };
  return null;
}
