/**
 * The lock screen of a companion (SPEC LOCK-*): the passcode, how many tries are left after a
 * wrong one, and "Forgot your passcode? Log out", since a forgotten passcode cannot be recovered:
 * the phone links this computer again. After the last allowed wrong passcode the device logs
 * itself out, which wipes it.
 * @module
 */
import { MAX_PASSCODE_ATTEMPTS } from '@pairwise/client/history-lock';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Session } from '../session.js';
import { ConfirmDialog } from '../ui/dialog.js';
import type { AppLock } from './use-app-lock.js';

/** Says how many wrong passcodes are still allowed. */
function attemptsText(left: number): string {
  return left === 1
    ? 'Wrong passcode. 1 attempt left: after one more wrong passcode, Pairwise logs out of this browser and deletes everything it kept here.'
    : `Wrong passcode. ${left} attempts left.`;
}

/** The whole screen while the app is locked. */
export function LockScreen({ session, appLock }: { readonly session: Session; readonly appLock: AppLock }) {
  const store = appLock.store;
  const [passcode, setPasscode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [wiping, setWiping] = useState<'attempts' | 'forgot' | null>(null);
  const [confirmingLogOut, setConfirmingLogOut] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  const logOut = async () => {
    try {
      await session.client.logOut();
    } catch {
      // Wiped all the same (the SDK wipes in any case); the app hears 'logged-out' and moves on.
    }
  };

  const wipe = (why: 'attempts' | 'forgot') => {
    setWiping(why);
    void logOut();
  };

  // The attempts ran out earlier (the tab closed before the log out finished): finish it now.
  useEffect(() => {
    if (store?.mustWipe) wipe('attempts');
  }, [store]);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (store === null || busy || wiping !== null) return;
    if (passcode === '') {
      setError('Enter your passcode.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const result = await store.unlock(passcode);
      if (result.ok) return;
      setPasscode('');
      if (result.mustWipe) {
        wipe('attempts');
        return;
      }
      setError(attemptsText(result.attemptsLeft));
      input.current?.focus();
    } catch {
      setError('Pairwise could not check the passcode. Try again.');
    } finally {
      setBusy(false);
    }
  };

  const failed = store?.failedAttempts ?? 0;
  return (
    <main class="lock-screen">
      <form class="card lock-card" onSubmit={(event) => void submit(event)} aria-labelledby="lock-title" noValidate>
        <h1 id="lock-title">Pairwise is locked</h1>
        {wiping !== null ? (
          <p role="alert" class={wiping === 'attempts' ? 'error' : undefined}>
            {wiping === 'attempts' ? 'Too many wrong passcodes. ' : ''}Pairwise is logging out of this browser and deleting
            everything it kept here.
          </p>
        ) : (
          <>
            <p>Enter your passcode to see your chats. Messages that arrive meanwhile are kept, encrypted, until then.</p>
            <label class="field">
              <span>Passcode</span>
              <input
                ref={input}
                type="password"
                name="passcode"
                autocomplete="off"
                value={passcode}
                onInput={(event) => setPasscode(event.currentTarget.value)}
                aria-invalid={error !== null}
                aria-describedby="lock-error"
                disabled={busy}
                autoFocus
              />
            </label>
            <p id="lock-error" class="error" role="alert">
              {error ?? (failed > 0 ? attemptsText(MAX_PASSCODE_ATTEMPTS - failed) : null)}
            </p>
            <div class="actions">
              <button type="submit" class="button primary" disabled={busy} aria-busy={busy}>
                {busy ? 'Checking…' : 'Unlock'}
              </button>
            </div>
            <p class="fine-print">
              <button type="button" class="link-button" onClick={() => setConfirmingLogOut(true)} disabled={busy}>
                Forgot your passcode? Log out
              </button>
            </p>
          </>
        )}
      </form>
      {confirmingLogOut && (
        <ConfirmDialog
          title="Log out of this browser?"
          confirmLabel="Log out"
          onConfirm={() => {
            setConfirmingLogOut(false);
            wipe('forgot');
          }}
          onCancel={() => setConfirmingLogOut(false)}
        >
          <p>
            A forgotten passcode cannot be recovered. Log out deletes everything Pairwise kept in this browser; then link
            this computer again from your phone. Your phone keeps your chats.
          </p>
        </ConfirmDialog>
      )}
    </main>
  );
}
