/**
 * Settings → Two-step verification (SPEC PIN-1, PIN-2): a six-digit PIN that every link approval
 * needs, so that someone holding the unlocked phone for a minute cannot link their own computer.
 * Off: set one (typed twice). On: change it or turn it off, each with the current PIN. The server
 * keeps only a hash; this screen never keeps a PIN beyond the form.
 * @module
 */
import type { PairwiseClient } from '@pairwise/client/pairwise-client';
import { useEffect, useRef, useState } from 'preact/hooks';
import { serverClock } from '../alerts/server-clock.js';
import { useSecurity, useTicker } from '../alerts/use-security.js';
import { describeError } from '../ui/describe-error.js';
import { isWholePin, PinInput } from './pin-input.js';
import { describePinRefusal } from './pin-refusal.js';

type Mode = 'idle' | 'change' | 'turn-off';

/** The section. */
export function TwoStepSection({ client }: { readonly client: PairwiseClient }) {
  const security = useSecurity(client);
  const [mode, setMode] = useState<Mode>('idle');
  const [status, setStatus] = useState<string | null>(null);
  const enabled = security?.pinEnabled ?? false;
  const open = (next: Mode) => {
    setMode(next);
    setStatus(null);
  };
  const finish = (said: string) => {
    setMode('idle');
    setStatus(said);
  };

  return (
    <section class="settings-section" aria-labelledby="two-step-title">
      <h2 id="two-step-title">Two-step verification</h2>
      <p class="hint">
        A six-digit PIN that this phone asks for before it links any computer. Someone who picks up your unlocked phone
        cannot link their own computer without it.
      </p>
      <p class="notice" role="status">
        {status}
      </p>
      {security === null ? (
        <p class="hint">Connecting to the server…</p>
      ) : !enabled ? (
        <>
          <p class="state-line">
            <span class="badge-label">Off</span> Linking a device asks for no PIN.
          </p>
          <PinForm
          client={client}
          key="turn-on"
          needsCurrent={false}
          needsNew
          submitLabel="Turn on"
          run={(_current, next) => client.setPin(next)}
          onDone={() => setStatus('Two-step verification is on. Linking a device now needs your PIN.')}
          />
        </>
      ) : (
        <>
          <p class="state-line">
            <span class="badge-label on">On</span> Every link needs your PIN.
          </p>
          {mode === 'idle' && (
            <div class="actions">
              <button type="button" class="button" onClick={() => open('change')}>
                Change PIN
              </button>
              <button type="button" class="button danger" onClick={() => open('turn-off')}>
                Turn off
              </button>
            </div>
          )}
          {mode === 'change' && (
            <PinForm
              client={client}
              key="change"
              title="Change PIN"
              needsCurrent
              needsNew
              submitLabel="Save new PIN"
              run={(current, next) => client.setPin(next, current)}
              onDone={() => finish('Your PIN was changed.')}
              onCancel={() => setMode('idle')}
            />
          )}
          {mode === 'turn-off' && (
            <PinForm
              client={client}
              key="turn-off"
              title="Turn off two-step verification"
              needsCurrent
              needsNew={false}
              submitLabel="Turn off two-step verification"
              danger
              run={(current) => client.disablePin(current)}
              onDone={() => finish('Two-step verification is off. Linking a device no longer asks for a PIN.')}
              onCancel={() => setMode('idle')}
            />
          )}
        </>
      )}
    </section>
  );
}

interface PinFormProps {
  readonly client: PairwiseClient;
  /** A heading inside the section (the change and turn-off forms). */
  readonly title?: string;
  readonly needsCurrent: boolean;
  readonly needsNew: boolean;
  readonly submitLabel: string;
  readonly danger?: boolean;
  readonly run: (currentPin: string, newPin: string) => Promise<unknown>;
  readonly onDone: () => void;
  readonly onCancel?: () => void;
}

type FieldName = 'current' | 'next' | 'confirm';

/** Current PIN (when needed), New PIN and Confirm PIN (when setting one), with errors that say what to fix. */
function PinForm({ client, title, needsCurrent, needsNew, submitLabel, danger = false, run, onDone, onCancel }: PinFormProps) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<{ readonly message: string; readonly field: FieldName | null } | null>(null);
  const [busy, setBusy] = useState(false);
  const [waitUntil, setWaitUntil] = useState<number | null>(null);
  const now = useTicker(1000, waitUntil !== null);
  const waiting = waitUntil !== null && waitUntil > now;
  const refs = { current: useRef<HTMLInputElement>(null), next: useRef<HTMLInputElement>(null), confirm: useRef<HTMLInputElement>(null) };
  const errorId = `pin-form-error-${submitLabel.replace(/\W+/g, '-').toLowerCase()}`;
  const hintId = `${errorId}-hint`;

  // The first field takes focus when a form opens on a button press (not on page load).
  useEffect(() => {
    if (title !== undefined) (needsCurrent ? refs.current : refs.next).current?.focus();
  }, []);

  useEffect(() => {
    if (error?.field) refs[error.field].current?.focus();
  }, [error]);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy || waiting) return;
    if (needsCurrent && !isWholePin(current)) return setError({ message: 'Enter your current PIN: 6 digits.', field: 'current' });
    if (needsNew && !isWholePin(next)) return setError({ message: 'A PIN is 6 digits.', field: 'next' });
    if (needsNew && confirm !== next) {
      setConfirm('');
      return setError({ message: 'The two PINs are not the same. Type the new PIN again to confirm it.', field: 'confirm' });
    }
    if (needsNew && /^(\d)\1{5}$|^012345$|^123456$|^654321$/.test(next)) {
      return setError({ message: 'This PIN is too easy to guess. Choose one that is not a run or a repeated digit.', field: 'next' });
    }
    setBusy(true);
    setError(null);
    try {
      await run(current, next);
      setCurrent('');
      setNext('');
      setConfirm('');
      setBusy(false);
      onDone();
    } catch (failure) {
      setBusy(false);
      const refusal = describePinRefusal(failure, serverClock(client).toLocal);
      if (refusal?.clear) setCurrent('');
      setWaitUntil(refusal?.waitUntil ?? null);
      setError({
        message: refusal === null ? describeError(failure) : refusal.message,
        field: refusal !== null && needsCurrent ? 'current' : null,
      });
    }
  };

  const invalid = (field: FieldName) => error?.field === field;
  const describedBy = (field: FieldName) => (invalid(field) ? `${hintId} ${errorId}` : hintId);

  return (
    <form class="pin-form" onSubmit={(event) => void submit(event)} noValidate aria-label={title}>
      {title !== undefined && <h3>{title}</h3>}
      <p id={hintId} class="hint">
        {needsNew ? '6 digits. Choose one you will remember, not a birthday or 123456.' : 'Linking will no longer ask for a PIN.'}
      </p>
      {needsCurrent && (
        <PinInput
          label="Current PIN"
          value={current}
          onValue={setCurrent}
          inputRef={refs.current}
          invalid={invalid('current')}
          describedBy={describedBy('current')}
          disabled={busy}
          autoComplete="off"
        />
      )}
      {needsNew && (
        <>
          <PinInput
            label="New PIN"
            value={next}
            onValue={setNext}
            inputRef={refs.next}
            invalid={invalid('next')}
            describedBy={describedBy('next')}
            disabled={busy}
            autoComplete="off"
          />
          <PinInput
            label="Confirm PIN"
            value={confirm}
            onValue={setConfirm}
            inputRef={refs.confirm}
            invalid={invalid('confirm')}
            describedBy={describedBy('confirm')}
            disabled={busy}
            autoComplete="off"
          />
        </>
      )}
      <p id={errorId} class="error" role="alert">
        {error?.message}
      </p>
      <div class="actions">
        <button type="submit" class={`button ${danger ? 'danger' : 'primary'}`} disabled={busy || waiting} aria-busy={busy}>
          {submitLabel}
        </button>
        {onCancel && (
          <button type="button" class="button" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
