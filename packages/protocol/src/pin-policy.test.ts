import { describe, expect, it } from 'vitest';
import { DAY_MS, PIN_LOCK_MS } from './limits.js';
import { isPinFormat, pinDelayMs, pinReminderAt, pinTriesLeft } from './pin-policy.js';

describe('two-step PIN schedules', () => {
  it('[PIN-1] a PIN is exactly six ASCII digits', () => {
    expect(isPinFormat('012345')).toBe(true);
    for (const bad of ['12345', '1234567', '12345a', '１２３４５６', ' 12345', '', 123456, null]) expect(isPinFormat(bad)).toBe(false);
  });

  it('[PIN-3] four wrong PINs cost nothing, the fifth on wait 30 s doubling, the tenth locks for an hour', () => {
    expect([0, 1, 2, 3, 4].map(pinDelayMs)).toEqual([0, 0, 0, 0, 0]);
    expect([5, 6, 7, 8, 9].map(pinDelayMs)).toEqual([30_000, 60_000, 120_000, 240_000, 480_000]);
    expect(pinDelayMs(10)).toBe(PIN_LOCK_MS);
    expect(PIN_LOCK_MS).toBe(3_600_000);
    expect(pinTriesLeft(0)).toBe(10);
    expect(pinTriesLeft(9)).toBe(1);
    expect(pinTriesLeft(12)).toBe(0);
  });

  it('[PIN-4] reminders come after 1, 3 and 7 days, then every 14 days', () => {
    const since = 1_000_000;
    expect([0, 1, 2, 3, 4, 9].map((stage) => (pinReminderAt(stage, since) - since) / DAY_MS)).toEqual([1, 3, 7, 14, 14, 14]);
  });
});
