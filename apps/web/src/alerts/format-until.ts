/**
 * "15:04 (in 58 minutes)": when a wait ends, on the reader's clock and in their language.
 * @module
 */
import { formatClock, formatDateTime } from '../platform/format.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'always' });

/** "in 45 seconds", "in 3 minutes", "in 2 hours", "in 4 days" (rounded up: never sooner than true). */
export function formatIn(at: number, now = Date.now()): string {
  const left = Math.max(0, at - now);
  if (left < MINUTE) return relative.format(Math.max(1, Math.ceil(left / SECOND)), 'second');
  if (left < HOUR) return relative.format(Math.ceil(left / MINUTE), 'minute');
  if (left < DAY) return relative.format(Math.ceil(left / HOUR), 'hour');
  return relative.format(Math.ceil(left / DAY), 'day');
}

/** "15:04 (in 58 minutes)" within a day; the date as well beyond. */
export function formatUntil(at: number, now = Date.now()): string {
  const when = at - now < DAY ? formatClock(at) : formatDateTime(at);
  return `${when} (${formatIn(at, now)})`;
}
