/**
 * The two-step PIN's schedules, as pure functions of the counters the server keeps, so that the
 * server enforces them and clients explain them from the same code (SPEC PIN-1, PIN-3, PIN-4).
 * @module
 */
import { DAY_MS, PIN_DIGITS, PIN_FREE_TRIES, PIN_LOCK_AFTER, PIN_LOCK_MS, PIN_REMINDER_DAYS } from './limits.js';

/** Whether `pin` has the form of a two-step PIN: exactly six ASCII digits. */
export function isPinFormat(pin: unknown): pin is string {
  return typeof pin === 'string' && pin.length === PIN_DIGITS && /^[0-9]+$/.test(pin);
}

/**
 * How long to wait after the `failures`-th consecutive wrong PIN before the next try: nothing for
 * the first PIN_FREE_TRIES - 1, then 30 s doubling with each further one (30 s, 1 min, 2 min, 4 min,
 * 8 min), and at PIN_LOCK_AFTER the hour-long lock.
 */
export function pinDelayMs(failures: number): number {
  if (failures < PIN_FREE_TRIES) return 0;
  if (failures >= PIN_LOCK_AFTER) return PIN_LOCK_MS;
  return 30_000 * 2 ** (failures - PIN_FREE_TRIES);
}

/** Wrong tries left before the lock, after `failures` consecutive wrong ones. */
export function pinTriesLeft(failures: number): number {
  return Math.max(0, PIN_LOCK_AFTER - failures);
}

/**
 * When the phone should next ask for the PIN: `stage` counts right answers since the PIN was set
 * (0 right after setting it), `since` is when the PIN was set or last answered right.
 */
export function pinReminderAt(stage: number, since: number): number {
  const days = PIN_REMINDER_DAYS[Math.min(Math.max(0, stage), PIN_REMINDER_DAYS.length - 1)] ?? 14;
  return since + days * DAY_MS;
}
