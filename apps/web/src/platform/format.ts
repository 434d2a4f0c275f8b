/**
 * Dates and times in the reader's language, as the screens show them.
 * @module
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const time = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const date = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** "10:31" today, "12 Mar 2026" before. */
export function formatMessageTime(at: number, now = Date.now()): string {
  return new Date(at).toDateString() === new Date(now).toDateString() ? time.format(at) : date.format(at);
}

/** "10:31" (for a message bubble). */
export function formatClock(at: number): string {
  return time.format(at);
}

/** "12 Mar 2026, 10:31". */
export function formatDateTime(at: number): string {
  return dateTime.format(at);
}

/** "just now", "5 minutes ago", "yesterday", "3 days ago". */
export function formatAgo(at: number, now = Date.now()): string {
  const elapsed = Math.max(0, now - at);
  if (elapsed < MINUTE) return 'just now';
  if (elapsed < HOUR) return relative.format(-Math.floor(elapsed / MINUTE), 'minute');
  if (elapsed < DAY) return relative.format(-Math.floor(elapsed / HOUR), 'hour');
  return relative.format(-Math.floor(elapsed / DAY), 'day');
}
