import { afterEach, describe, expect, it } from 'vitest';
import { DAY_MS } from '@pairwise/protocol/limits';
import { logSettingChange, SETTING_RUN_MS, toSecurity } from './account-security.js';
import { accountFixture, closeAccountFixtures } from './test-support/account-fixture.js';
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

describe('[SECLOG-3] changes of settings are coalesced into runs', () => {
  afterEach(closeAccountFixtures);

  it('a repeat by the same device within an hour adds nothing; another kind, another device or a later one does', async () => {
    const { ctx, clock, ids } = await accountFixture();
    const kinds = async () => (await ctx.store.listSecurityEvents('alice', 100)).map((event) => event.kind);
    const change = (kind: 'pin-changed' | 'policies-changed', deviceId = ids.primary) => logSettingChange(ctx, 'alice', { kind, deviceId });
    await change('pin-changed');
    await change('pin-changed');
    expect(await kinds()).toEqual(['pin-changed']);
    await change('policies-changed');
    await change('policies-changed');
    expect(await kinds()).toEqual(['policies-changed', 'pin-changed']);
    await change('policies-changed', ids.companion);
    expect(await kinds()).toHaveLength(3);
    clock.advance(SETTING_RUN_MS);
    await change('policies-changed', ids.companion);
    expect(await kinds()).toHaveLength(4);
  });
});
