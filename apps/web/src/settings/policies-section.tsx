/**
 * Settings → Automatic log out (SPEC EXPIRY-1, EXPIRY-2): how long a computer may sit unused
 * before the server logs it out, and whether every computer is logged out when this phone itself
 * goes unused. Saved on change; the server enforces both, whatever a client does.
 * @module
 */
import type { PairwiseClient } from '@pairwise/client/pairwise-client';
import { INACTIVE_DAYS_CHOICES, PHONE_UNUSED_DAYS_CHOICES } from '@pairwise/client/security';
import { useState } from 'preact/hooks';
import { useSecurity } from '../alerts/use-security.js';
import { describeError } from '../ui/describe-error.js';

/** "Log out devices inactive for" choices in days. */
export const INACTIVE_DAYS_OPTIONS: readonly number[] = INACTIVE_DAYS_CHOICES;
/** "… if this phone is unused for" choices in days, 0 being never. */
export const PHONE_UNUSED_DAYS_OPTIONS: readonly number[] = PHONE_UNUSED_DAYS_CHOICES;

/** "1 day", "30 days", "Never". */
export function daysLabel(days: number): string {
  if (days === 0) return 'Never';
  return days === 1 ? '1 day' : `${days} days`;
}

/** The two choices. */
export function PoliciesSection({ client }: { readonly client: PairwiseClient }) {
  const security = useSecurity(client);
  const [saving, setSaving] = useState(false);
  const [status, setStatus] = useState<{ readonly text: string; readonly failed: boolean } | null>(null);

  const save = async (change: { inactiveDays?: number; phoneUnusedDays?: number }, said: string) => {
    if (security === null) return;
    setSaving(true);
    setStatus(null);
    try {
      await client.setPolicies({ inactiveDays: security.inactiveDays, phoneUnusedDays: security.phoneUnusedDays, ...change });
      setStatus({ text: `Saved. ${said}`, failed: false });
    } catch (error) {
      // The select shows the server's value again (the state did not change).
      setStatus({ text: `Not saved: ${describeError(error)}`, failed: true });
    }
    setSaving(false);
  };

  return (
    <section class="settings-section" aria-labelledby="policies-title">
      <h2 id="policies-title">Automatic log out</h2>
      <p class="hint">
        A computer you forgot about stays signed in until it is logged out. Pairwise logs such computers out for you.
      </p>
      {security === null ? (
        <p class="hint">Connecting to the server…</p>
      ) : (
        <>
          <div class="field">
            <label for="inactive-days">Log out devices inactive for</label>
            <select
              id="inactive-days"
              value={String(security.inactiveDays)}
              disabled={saving}
              aria-describedby="inactive-days-hint"
              onChange={(event) => {
                const days = Number(event.currentTarget.value);
                void save({ inactiveDays: days }, `Computers not used for ${daysLabel(days)} are logged out.`);
              }}
            >
              {withCurrent(INACTIVE_DAYS_OPTIONS, security.inactiveDays).map((days) => (
                <option key={days} value={String(days)}>
                  {daysLabel(days)}
                </option>
              ))}
            </select>
            <p id="inactive-days-hint" class="hint">
              Counted from the last time the computer was connected.
            </p>
          </div>
          <div class="field">
            <label for="phone-unused-days">Log out computers if this phone is unused for</label>
            <select
              id="phone-unused-days"
              value={String(security.phoneUnusedDays)}
              disabled={saving}
              aria-describedby="phone-unused-days-hint"
              onChange={(event) => {
                const days = Number(event.currentTarget.value);
                void save(
                  { phoneUnusedDays: days },
                  days === 0 ? 'Computers stay signed in however long this phone is unused.' : `Computers are logged out when this phone is unused for ${daysLabel(days)}.`,
                );
              }}
            >
              {withCurrent(PHONE_UNUSED_DAYS_OPTIONS, security.phoneUnusedDays).map((days) => (
                <option key={days} value={String(days)}>
                  {daysLabel(days)}
                </option>
              ))}
            </select>
            <p id="phone-unused-days-hint" class="hint">
              If this phone is lost, computers linked to it do not stay signed in for ever. Every device warns a few days before.
            </p>
          </div>
        </>
      )}
      <p class={status?.failed ? 'error' : 'notice'} role="status">
        {status?.text}
      </p>
    </section>
  );
}

/** The choices, plus the account's current value should the server hold one not offered here. */
function withCurrent(options: readonly number[], current: number): readonly number[] {
  return options.includes(current) ? options : [...options, current];
}
