/**
 * The two-step PIN, the expiry policies and the security log (SPEC PIN-*, EXPIRY-*, SECLOG-*).
 * Everything here but GetSecurity is for the primary only (handlers/table.ts); every PIN goes
 * through `checkPin`.
 * @module
 */
import { ProtocolError } from '@pairwise/protocol/errors';
import { INACTIVE_DAYS_CHOICES, PHONE_UNUSED_DAYS_CHOICES } from '@pairwise/protocol/limits';
import { isPinFormat } from '@pairwise/protocol/pin-policy';
import type { GetSecurity, GetSecurityLog, SetPin, SetPolicies, VerifyPin } from '@pairwise/protocol/wire';
import { logSettingChange, publishSecurityChanged, securityOf } from '../account-security.js';
import { coarseNetwork } from '../network.js';
import { checkPin, type PinAttempt } from '../pin-check.js';
import { hashPin } from '../pin-hash.js';
import type { Connection, ResponseResult } from '../ws/connection.js';
import { check } from '../validate.js';

/** Most log entries one GetSecurityLog returns. */
export const SECURITY_LOG_PAGE = 200;

function self(connection: Connection) {
  if (connection.device === null) throw new ProtocolError('NOT_AUTHENTICATED');
  return connection.device;
}

/** The phone itself, as the log names PIN attempts made on it. */
async function phoneAttempt(connection: Connection): Promise<PinAttempt> {
  const { accountId, deviceId } = self(connection);
  const device = await connection.ctx.store.getDevice(deviceId);
  return { accountId, deviceId, deviceName: device?.name ?? '', network: coarseNetwork(connection.origin.ipAddress) };
}

async function currentSecurity(connection: Connection): Promise<ResponseResult> {
  const security = await securityOf(connection.ctx, self(connection).accountId);
  if (security === null) throw new ProtocolError('LOGGED_OUT');
  return { case: 'security', value: security };
}

export function getSecurity(connection: Connection, _body: GetSecurity): Promise<ResponseResult> {
  return currentSecurity(connection);
}

/** Turn on (no current PIN), change (current PIN) or turn off (no new PIN) two-step verification. */
export function setPin(connection: Connection, body: SetPin): Promise<ResponseResult> {
  return connection.ctx.guards.pinWork.run(self(connection).accountId, () => setPinNow(connection, body));
}

async function setPinNow(connection: Connection, body: SetPin): Promise<ResponseResult> {
  const { ctx } = connection;
  const attempt = await phoneAttempt(connection);
  const { accountId } = attempt;
  check(body.newPin === '' || isPinFormat(body.newPin), 'new_pin', 'must be 6 digits, or empty to turn the PIN off');
  check(body.currentPin === '' || isPinFormat(body.currentPin), 'current_pin', 'must be 6 digits');
  const row = await ctx.store.getSecurity(accountId);
  if (row === null) throw new ProtocolError('LOGGED_OUT');
  const who = { deviceId: attempt.deviceId, deviceName: attempt.deviceName, network: attempt.network };
  const now = ctx.clock.now();
  if (row.pinHash === null) {
    if (body.newPin === '' || body.currentPin !== '') throw new ProtocolError('PIN_NOT_SET', 'there is no current PIN');
    const pinHash = await hashPin(body.newPin);
    // Only if no PIN was set meanwhile: of several "turn on" at once, one turns it on and the rest
    // are told there is a PIN now, so that they cannot each log an entry (SPEC SECLOG-3).
    const patch = { pinHash, pinFailures: 0, pinNextTryAt: 0, pinLockedUntil: 0, pinReminderStage: 0, pinReminderSince: now };
    if (!(await ctx.store.updateSecurity(accountId, patch, { pinSet: false }))) throw new ProtocolError('PIN_REQUIRED', 'a PIN was set meanwhile');
    await logSettingChange(ctx, accountId, { kind: 'pin-enabled', ...who });
  } else {
    // Changing or removing the PIN needs the current one, with the same count of wrong tries as
    // a link approval: a thief of the unlocked phone cannot replace the PIN to link a device.
    if (body.currentPin === '') throw new ProtocolError('PIN_REQUIRED');
    const newHash = body.newPin === '' ? null : await hashPin(body.newPin);
    await checkPin(ctx, attempt, body.currentPin, { pinHash: newHash, pinReminderStage: 0, pinReminderSince: newHash === null ? 0 : now });
    await logSettingChange(ctx, accountId, { kind: newHash === null ? 'pin-disabled' : 'pin-changed', ...who });
  }
  await publishSecurityChanged(ctx, accountId);
  return currentSecurity(connection);
}

/** The reminder (SPEC PIN-4): a right answer moves the schedule on; a wrong one counts. */
export function verifyPin(connection: Connection, body: VerifyPin): Promise<ResponseResult> {
  check(body.pin !== '', 'pin');
  return connection.ctx.guards.pinWork.run(self(connection).accountId, async () => {
    await checkPin(connection.ctx, await phoneAttempt(connection), body.pin);
    return currentSecurity(connection);
  });
}

export async function setPolicies(connection: Connection, body: SetPolicies): Promise<ResponseResult> {
  const { ctx } = connection;
  check(INACTIVE_DAYS_CHOICES.includes(body.inactiveDays), 'inactive_days', `must be one of ${INACTIVE_DAYS_CHOICES.join(', ')}`);
  check(PHONE_UNUSED_DAYS_CHOICES.includes(body.phoneUnusedDays), 'phone_unused_days', `must be one of ${PHONE_UNUSED_DAYS_CHOICES.join(', ')}`);
  const attempt = await phoneAttempt(connection);
  const row = await ctx.store.getSecurity(attempt.accountId);
  if (row === null) throw new ProtocolError('LOGGED_OUT');
  if (row.inactiveDays === body.inactiveDays && row.phoneUnusedDays === body.phoneUnusedDays) return currentSecurity(connection);
  await ctx.store.updateSecurity(attempt.accountId, { inactiveDays: body.inactiveDays, phoneUnusedDays: body.phoneUnusedDays });
  await logSettingChange(ctx, attempt.accountId, {
    kind: 'policies-changed',
    deviceId: attempt.deviceId,
    deviceName: attempt.deviceName,
    network: attempt.network,
  });
  await publishSecurityChanged(ctx, attempt.accountId);
  return currentSecurity(connection);
}

export async function getSecurityLog(connection: Connection, _body: GetSecurityLog): Promise<ResponseResult> {
  const rows = await connection.ctx.store.listSecurityEvents(self(connection).accountId, SECURITY_LOG_PAGE);
  return {
    case: 'securityLog',
    value: {
      events: rows.map((row) => ({
        at: row.at,
        kind: row.kind,
        deviceId: row.deviceId,
        deviceName: row.deviceName,
        actor: row.actor,
        network: row.network,
      })),
    },
  };
}
