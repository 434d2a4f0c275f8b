import { describe, expect, it } from 'vitest';
import { DAY_MS } from '@pairwise/protocol/limits';
import { toSecurity } from './account-security.js';
import type { AccountSecurityRow, DeviceRow } from './store/store.js';

const NOW = 1_800_000_000_000;

const row = (patch: Partial<AccountSecurityRow> = {}): AccountSecurityRow => ({
  accountId: 'alice',
  pinHash: null,
  pinFailures: 0,
  pinNextTryAt: 0,
  pinLockedUntil: 0,
  pinReminderStage: 0,
  pinReminderSince: 0,
  inactiveDays: 30,
  phoneUnusedDays: 14,
  phoneWarningSentAt: 0,
  ...patch,
});

const device = (kind: DeviceRow['kind'], lastActiveAt: number): DeviceRow => ({
  deviceId: kind === 'primary' ? 'a'.repeat(32) : 'b'.repeat(32),
  accountId: 'alice',
  kind,
  signingKey: new Uint8Array(32),
  agreementKey: new Uint8Array(32),
  name: kind,
  linkedAt: 0,
  lastActiveAt,
  temporary: false,
  userAgent: '',
  network: '',
  disconnectedAt: null,
  attestation: null,
});

describe('[EXPIRY-3] [PIN-4] the account security state', () => {
  it('warns from day 10 of an unused phone, only with a companion and a policy that logs out', () => {
    const phoneAt = (days: number) => device('primary', NOW - days * DAY_MS);
    const companion = device('companion', NOW);
    expect(toSecurity(row(), [phoneAt(9.99), companion], NOW).phoneUnusedWarning).toBe(false);
    expect(toSecurity(row(), [phoneAt(10), companion], NOW)).toMatchObject({
      phoneUnusedWarning: true,
      phoneLastActiveAt: NOW - 10 * DAY_MS,
      companionsExpireAt: NOW + 4 * DAY_MS,
    });
    expect(toSecurity(row(), [phoneAt(12)], NOW).phoneUnusedWarning).toBe(false);
    expect(toSecurity(row({ phoneUnusedDays: 0 }), [phoneAt(40), companion], NOW)).toMatchObject({
      phoneUnusedWarning: false,
      companionsExpireAt: 0,
    });
    expect(toSecurity(row({ phoneUnusedDays: 30 }), [phoneAt(10), companion], NOW).companionsExpireAt).toBe(NOW + 20 * DAY_MS);
  });

  it('shows the PIN, its reminder and only waits and locks that are still running', () => {
    expect(toSecurity(row(), [], NOW)).toMatchObject({ pinEnabled: false, pinReminderAt: 0, serverTime: NOW });
    const withPin = row({ pinHash: '$argon2id$...', pinReminderStage: 2, pinReminderSince: NOW, pinFailures: 6, pinNextTryAt: NOW + 1000, pinLockedUntil: NOW - 1 });
    expect(toSecurity(withPin, [], NOW)).toMatchObject({
      pinEnabled: true,
      pinReminderAt: NOW + 7 * DAY_MS,
      pinFailures: 6,
      pinNextTryAt: NOW + 1000,
      pinLockedUntil: 0,
    });
  });
});
