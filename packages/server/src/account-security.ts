/**
 * An account's security state as devices see it (SPEC PIN-4, EXPIRY-3, EXPIRY-4), the security
 * log (SPEC SECLOG-1), and the push that tells every device of the account when the state changes
 * (SPEC ALERT-2). The Security message is computed here and nowhere else.
 * @module
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { DAY_MS, PHONE_UNUSED_WARNING_DAYS } from '@pairwise/protocol/limits';
import { pinReminderAt } from '@pairwise/protocol/pin-policy';
import type { SecuritySchema } from '@pairwise/protocol/wire';
import type { ServerContext } from './context.js';
import type { AccountSecurityRow, DeviceRow, SecurityEventRow } from './store/store.js';

/** The Security message. */
export type SecurityInit = MessageInitShape<typeof SecuritySchema>;

/** Alerts a SecurityChanged push may carry: '' (none) or "pin-locked". */
export type SecurityAlert = '' | 'pin-locked';

/**
 * The account's state at `now`, from its security row and its devices (primary first, as the
 * store lists them).
 */
export function toSecurity(row: AccountSecurityRow, devices: readonly DeviceRow[], now: number): SecurityInit {
  const primary = devices.find((device) => device.kind === 'primary');
  const phoneLastActiveAt = primary?.lastActiveAt ?? 0;
  const hasCompanion = devices.some((device) => device.kind === 'companion');
  const expires = row.phoneUnusedDays !== 0;
  return {
    serverTime: now,
    pinEnabled: row.pinHash !== null,
    pinReminderAt: row.pinHash !== null ? pinReminderAt(row.pinReminderStage, row.pinReminderSince) : 0,
    pinFailures: row.pinFailures,
    pinNextTryAt: row.pinNextTryAt > now ? row.pinNextTryAt : 0,
    pinLockedUntil: row.pinLockedUntil > now ? row.pinLockedUntil : 0,
    inactiveDays: row.inactiveDays,
    phoneUnusedDays: row.phoneUnusedDays,
    phoneLastActiveAt,
    companionsExpireAt: expires ? phoneLastActiveAt + row.phoneUnusedDays * DAY_MS : 0,
    phoneUnusedWarning: expires && hasCompanion && now - phoneLastActiveAt >= PHONE_UNUSED_WARNING_DAYS * DAY_MS,
  };
}

/** The account's state now, or null for an account that no longer exists. */
export async function securityOf(ctx: Pick<ServerContext, 'store' | 'clock'>, accountId: string): Promise<SecurityInit | null> {
  const [row, devices] = await Promise.all([ctx.store.getSecurity(accountId), ctx.store.listDevices(accountId)]);
  if (row === null) return null;
  return toSecurity(row, devices, ctx.clock.now());
}

/** Tells every device of the account, on every node, its new security state (with an alert). */
export async function publishSecurityChanged(ctx: Pick<ServerContext, 'bus'>, accountId: string, alert: SecurityAlert = ''): Promise<void> {
  await ctx.bus.publish({ type: 'security', accountId, alert });
}

/** What a log entry says; the account and time are added by `logSecurityEvent`. */
export type SecurityEventInit = Pick<SecurityEventRow, 'kind'> & Partial<Pick<SecurityEventRow, 'deviceId' | 'deviceName' | 'actor' | 'network'>>;

/** Adds an entry to the account's security log, at the server's time. */
export async function logSecurityEvent(ctx: Pick<ServerContext, 'store' | 'clock'>, accountId: string, event: SecurityEventInit): Promise<void> {
  await ctx.store.addSecurityEvent({
    accountId,
    at: ctx.clock.now(),
    kind: event.kind,
    deviceId: event.deviceId ?? '',
    deviceName: event.deviceName ?? '',
    actor: event.actor ?? '',
    network: event.network ?? '',
  });
}

/** A change of settings repeating the newest entry within this long is part of that entry's run. */
export const SETTING_RUN_MS = 60 * 60 * 1000;

/**
 * Logs a change of settings, coalesced (SPEC SECLOG-3): a run of the same change by the same device
 * within an hour of the entry is that one entry, so that flipping a setting back and forth adds
 * nothing to read; a change after that is a new entry, so that the log never says a setting last
 * changed months before it did.
 */
export async function logSettingChange(ctx: Pick<ServerContext, 'store' | 'clock'>, accountId: string, event: SecurityEventInit): Promise<void> {
  const [latest] = await ctx.store.listSecurityEvents(accountId, 1);
  const inRun =
    latest !== undefined && latest.kind === event.kind && latest.deviceId === (event.deviceId ?? '') && ctx.clock.now() - latest.at < SETTING_RUN_MS;
  if (!inRun) await logSecurityEvent(ctx, accountId, event);
}
