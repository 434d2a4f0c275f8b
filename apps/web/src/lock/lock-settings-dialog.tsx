/**
 * "App lock…" on a companion (SPEC LOCK-*): set a passcode (at least 6 characters, not among the
 * easiest to guess, typed twice) and "Lock after" 1, 15 or 60 minutes; with one set, change either
 * or turn the lock off, each confirmed with the current passcode (a wrong one counts toward the 10
 * that wipe the device). A new passcode's strength is shown as a meter and in words (LOCK-9); the
 * estimator behind it loads when the dialog opens. Also "Show notifications", which asks the
 * browser's permission.
 * @module
 */
import { LOCK_AFTER_MINUTES, MIN_PASSCODE_LENGTH, type LockAfterMinutes, type PasscodeResult } from '@pairwise/client/history-lock';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { requestNotificationPermission } from '../platform/notifications.js';
import type { Session } from '../session.js';
import { loadPasscodeEstimator } from './passcode-estimator.js';
import { judgePasscode, STRENGTH_LABELS, type PasscodeStrength, type StrengthEstimator } from './passcode-strength.js';
import type { AppLock } from './use-app-lock.js';

const LOCK_AFTER_LABELS: Record<LockAfterMinutes, string> = { 1: '1 minute', 15: '15 minutes', 60: '1 hour' };

/** Props of the dialog. */
export interface LockSettingsDialogProps {
  readonly session: Session;
  readonly appLock: AppLock;
  readonly onClose: () => void;
}

/** The app lock's settings, as a modal dialog. */
export function LockSettingsDialog({ session, appLock, onClose }: LockSettingsDialogProps) {
  const store = appLock.store;
  const enabled = store?.enabled ?? false;
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const [current, setCurrent] = useState('');
  const [passcode, setPasscode] = useState('');
  const [repeat, setRepeat] = useState('');
  const [lockAfter, setLockAfter] = useState<LockAfterMinutes>(store?.lockAfterMinutes ?? 15);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const strengthId = useId();
  // null while loading; 'failed' when its chunks could not be fetched (no new passcode then).
  const [estimator, setEstimator] = useState<StrengthEstimator | 'failed' | null>(null);

  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);

  useEffect(() => {
    let open = true;
    loadPasscodeEstimator().then(
      // Wrapped: handed a function, a state setter would call it.
      (loaded) => open && setEstimator(() => loaded),
      () => open && setEstimator('failed'),
    );
    return () => {
      open = false;
    };
  }, []);

  if (store === null) return null;

  /** A wrong current passcode: say so, or log out when none are left. */
  const refused = (result: PasscodeResult & { ok: false }) => {
    setCurrent('');
    if (result.mustWipe) {
      setError('Too many wrong passcodes. Pairwise is logging out of this browser and deleting everything it kept here.');
      void session.client.logOut().catch(() => {});
      return;
    }
    setError(`Wrong current passcode. ${result.attemptsLeft} ${result.attemptsLeft === 1 ? 'attempt' : 'attempts'} left.`);
  };

  const strength: PasscodeStrength | null = passcode !== '' && typeof estimator === 'function' ? judgePasscode(passcode, estimator) : null;
  /** Why the new passcode cannot be set as typed (LOCK-9); null when it can, or none is being set. */
  const refusal = (required: boolean): string | null => {
    if (!required && passcode === '') return null;
    if (passcode === '') return `Use at least ${MIN_PASSCODE_LENGTH} characters for the passcode.`;
    if (estimator === 'failed') return 'Pairwise could not load its passcode checker. Close this dialog and open it again to retry.';
    if (strength === null) return 'Checking the passcode…';
    return strength.problem;
  };
  // The Set/Save button stays disabled while the new passcode is refused.
  const passcodeRefused = refusal(!enabled) !== null;

  const newPasscodeProblem = (required: boolean): string | null => {
    if (!required && passcode === '' && repeat === '') return null;
    const problem = refusal(required);
    if (problem !== null) return problem;
    if (passcode !== repeat) return 'The two passcodes differ. Type the same passcode twice.';
    return null;
  };

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      await work();
    } catch {
      setError('Pairwise could not save the app lock. Try again.');
    } finally {
      setBusy(false);
    }
  };

  const save = (event: Event) => {
    event.preventDefault();
    if (busy) return;
    const problem = newPasscodeProblem(!enabled);
    if (problem !== null) {
      setError(problem);
      return;
    }
    if (enabled && current === '') {
      setError('Enter your current passcode to change the app lock.');
      return;
    }
    void run(async () => {
      if (!enabled) {
        await store.enable(passcode, lockAfter);
      } else {
        const result = await store.change(current, { lockAfterMinutes: lockAfter, ...(passcode === '' ? {} : { passcode }) });
        if (!result.ok) return refused(result);
      }
      appLock.settingsChanged();
      onClose();
    });
  };

  const turnOff = () => {
    if (busy) return;
    if (current === '') {
      setError('Enter your current passcode to turn the app lock off.');
      return;
    }
    void run(async () => {
      const result = await store.disable(current);
      if (!result.ok) return refused(result);
      appLock.settingsChanged();
      onClose();
    });
  };

  const toggleNotifications = (on: boolean) => {
    void run(async () => {
      if (on) {
        const permission = await requestNotificationPermission();
        if (permission !== 'granted') {
          setNotice(
            permission === 'unsupported'
              ? 'This browser cannot show notifications.'
              : 'Your browser does not allow notifications from Pairwise. Allow them in the site settings, then try again.',
          );
          return;
        }
      }
      await appLock.setNotificationsEnabled(on);
    });
  };

  return (
    <dialog
      ref={ref}
      class="dialog lock-settings"
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        if (!busy) onClose();
      }}
    >
      <form onSubmit={save} noValidate>
        <h2 id={titleId}>App lock</h2>
        <p class="hint">
          {enabled
            ? 'The app lock is on: your chats are encrypted on this computer with a key only your passcode opens.'
            : 'Lock Pairwise on this computer with a passcode. While it is locked, your chats are hidden and the key that decrypts them is not in memory.'}
        </p>
        {enabled && (
          <label class="field">
            <span>Current passcode</span>
            <input type="password" autocomplete="off" value={current} onInput={(event) => setCurrent(event.currentTarget.value)} disabled={busy} />
          </label>
        )}
        <label class="field">
          <span>{enabled ? 'New passcode (optional)' : 'New passcode'}</span>
          <input
            type="password"
            autocomplete="new-password"
            value={passcode}
            onInput={(event) => setPasscode(event.currentTarget.value)}
            aria-describedby={`${strengthId} passcode-hint`}
            disabled={busy}
          />
        </label>
        {passcode !== '' && (
          <p id={strengthId} class="hint passcode-strength">
            <PasscodeStrengthMeter strength={strength} waiting={refusal(true)} />
          </p>
        )}
        <label class="field">
          <span>Repeat passcode</span>
          <input type="password" autocomplete="new-password" value={repeat} onInput={(event) => setRepeat(event.currentTarget.value)} disabled={busy} />
        </label>
        <p id="passcode-hint" class="hint">
          At least {MIN_PASSCODE_LENGTH} characters. If you forget it, log out and link this computer again: the passcode
          cannot be recovered. After 10 wrong passcodes Pairwise logs out of this browser.
        </p>
        <label class="field">
          <span>Lock after</span>
          <select value={lockAfter} onChange={(event) => setLockAfter(Number(event.currentTarget.value) as LockAfterMinutes)} disabled={busy}>
            {LOCK_AFTER_MINUTES.map((minutes) => (
              <option key={minutes} value={minutes}>
                {LOCK_AFTER_LABELS[minutes]} without activity
              </option>
            ))}
          </select>
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={appLock.notificationsEnabled}
            onChange={(event) => toggleNotifications(event.currentTarget.checked)}
            disabled={busy}
          />
          <span>Show notifications</span>
        </label>
        <p class="hint">When Pairwise is in the background. While it is locked, they say only “New message”.</p>
        <p class="error" role="alert">
          {error}
        </p>
        {notice !== null && <p class="notice">{notice}</p>}
        <div class="dialog-actions">
          {enabled && (
            <button type="button" class="button danger" onClick={turnOff} disabled={busy}>
              Turn off app lock
            </button>
          )}
          <button type="button" class="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" class="button primary" disabled={busy || passcodeRefused} aria-busy={busy}>
            {enabled ? 'Save' : 'Turn on app lock'}
          </button>
        </div>
      </form>
    </dialog>
  );
}

/**
 * The new passcode's strength: a meter from 0 to 4 (zxcvbn's score) and the same in words, with
 * why it is refused when it is; `waiting` (loading, or could not load) until it is judged.
 * Rendered inside the paragraph the passcode field is described by.
 */
function PasscodeStrengthMeter({ strength, waiting }: { strength: PasscodeStrength | null; waiting: string | null }) {
  if (strength === null) return <>{waiting}</>;
  return (
    <>
      {/* Below 2 is refused (low), 2 is fair, 3 and 4 are the optimum. */}
      <meter min={0} max={STRENGTH_LABELS.length - 1} low={1.5} high={2.5} optimum={4} value={strength.score} aria-label="Passcode strength" aria-valuetext={strength.label} />{' '}
      Strength: {strength.label}.{strength.problem === null ? '' : ` ${strength.problem}`}
    </>
  );
}
