/**
 * The one place a two-step PIN is checked (SPEC PIN-3): link approvals, the reminder, changing
 * and turning off the PIN all come here, so that every wrong try counts the same way.
 *
 * While linking is locked (10 wrong tries: an hour) or the next try is not allowed yet (growing
 * delays from the 5th), the PIN is not even looked at. A wrong PIN adds one to the account's count
 * of consecutive failures, logs 'pin-failed', and at the 10th locks linking for an hour, logs
 * 'pin-locked' and alerts every device of the account. A right PIN clears the count and moves the
 * reminder schedule on (SPEC PIN-4).
 *
 * Tries for one account are serialised in this process (a keyed mutex), and the count is written
 * with a compare-and-set on its old value, so that two nodes checking at once cannot both count
 * as the same try. The PIN itself is never logged, stored or put in an error.
 * @module
 */
import { ProtocolError } from '@pairwise/protocol/errors';
import { PIN_LOCK_AFTER, PIN_LOCK_MS } from '@pairwise/protocol/limits';
import { isPinFormat, pinDelayMs, pinTriesLeft } from '@pairwise/protocol/pin-policy';
import { KeyedMutex } from '@pairwise/protocol/keyed-mutex';
import { logSecurityEvent, publishSecurityChanged } from './account-security.js';
import type { ServerContext } from './context.js';
import { pinMatches } from './pin-hash.js';
import type { AccountSecurityRow, SecurityPatch } from './store/store.js';

/** Who is trying, for the security log. */
export interface PinAttempt {
  readonly accountId: string;
  /** The device the attempt concerns (the companion being linked, or the phone itself). */
  readonly deviceId: string;
  readonly deviceName: string;
  /** Coarse network of the request. */
  readonly network: string;
}

/** Rounds of read-verify-write before giving up when other nodes keep changing the count. */
const MAX_ROUNDS = 5;

const tries = new KeyedMutex();

/**
 * Checks `pin` for the account. On a right PIN, writes the cleared count and the next reminder,
 * together with `onRight` (e.g. a new hash), and returns the row as it now is. Otherwise throws
 * PIN_LOCKED, PIN_RATE_LIMITED (both with retryAt), PIN_WRONG (with triesLeft and retryAt),
 * PIN_NOT_SET, or BAD_REQUEST for something that is not six digits.
 */
export function checkPin(
  ctx: Pick<ServerContext, 'store' | 'clock' | 'bus'>,
  attempt: PinAttempt,
  pin: string,
  onRight: SecurityPatch = {},
): Promise<AccountSecurityRow> {
  if (!isPinFormat(pin)) throw new ProtocolError('BAD_REQUEST', 'a two-step PIN is 6 digits');
  return tries.run(attempt.accountId, async () => {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const row = await ctx.store.getSecurity(attempt.accountId);
      if (row === null) throw new ProtocolError('LOGGED_OUT');
      if (row.pinHash === null) throw new ProtocolError('PIN_NOT_SET');
      const now = ctx.clock.now();
      if (row.pinLockedUntil > now) throw new ProtocolError('PIN_LOCKED', undefined, { retryAt: row.pinLockedUntil });
      if (row.pinNextTryAt > now) throw new ProtocolError('PIN_RATE_LIMITED', undefined, { retryAt: row.pinNextTryAt });

      if (await pinMatches(row.pinHash, pin)) {
        const patch: SecurityPatch = {
          pinFailures: 0,
          pinNextTryAt: 0,
          pinLockedUntil: 0,
          pinReminderStage: row.pinReminderStage + 1,
          pinReminderSince: now,
          ...onRight,
        };
        if (!(await ctx.store.updateSecurity(attempt.accountId, patch, { pinFailures: row.pinFailures }))) continue;
        // Devices showing failures or a past lock learn that they are cleared.
        if (row.pinFailures > 0) await publishSecurityChanged(ctx, attempt.accountId);
        return { ...row, ...patch };
      }

      const failures = row.pinFailures + 1;
      const delay = pinDelayMs(failures);
      const locked = failures >= PIN_LOCK_AFTER;
      const nextTryAt = delay > 0 ? now + delay : 0;
      const patch: SecurityPatch = { pinFailures: failures, pinNextTryAt: nextTryAt, ...(locked ? { pinLockedUntil: now + PIN_LOCK_MS } : {}) };
      if (!(await ctx.store.updateSecurity(attempt.accountId, patch, { pinFailures: row.pinFailures }))) continue;
      const who = { deviceId: attempt.deviceId, deviceName: attempt.deviceName, network: attempt.network };
      await logSecurityEvent(ctx, attempt.accountId, { kind: 'pin-failed', ...who });
      if (locked) await logSecurityEvent(ctx, attempt.accountId, { kind: 'pin-locked', ...who });
      await publishSecurityChanged(ctx, attempt.accountId, locked ? 'pin-locked' : '');
      throw new ProtocolError('PIN_WRONG', locked ? 'linking is locked for an hour' : undefined, {
        triesLeft: pinTriesLeft(failures),
        retryAt: nextTryAt,
      });
    }
    // Other nodes counted tries for this account all along: this one waits its turn.
    throw new ProtocolError('PIN_RATE_LIMITED', 'other PIN tries are in progress', { retryAt: ctx.clock.now() + 1000 });
  });
}
