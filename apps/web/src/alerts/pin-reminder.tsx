/**
 * "Do you remember your two-step PIN?" (SPEC PIN-4): now and then the phone asks for the PIN so
 * that it is not forgotten, as a card that blocks nothing. "Not now" hides it until the app next
 * starts; a right answer moves the reminder on (the server schedules it); a wrong one counts as a
 * wrong PIN, so the card says how many tries are left.
 * @module
 */
import type { PairwiseClient } from '@pairwise/client/pairwise-client';
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatIn } from './format-until.js';
import { serverClock } from './server-clock.js';
import { useSecurity, useTicker } from './use-security.js';
import { describePinRefusal } from '../settings/pin-refusal.js';
import { isWholePin, PinInput } from '../settings/pin-input.js';
import { describeError } from '../ui/describe-error.js';

/** "Not now" lasts until the app starts again: kept in memory, never on disk. */
let postponed = false;

/** How long the "That's right" answer stays before the card goes. */
const THANKS_MS = 8000;

/** The reminder card, when one is due. */
export function PinReminder({ client }: { readonly client: PairwiseClient }) {
  const security = useSecurity(client);
  const [hidden, setHidden] = useState(postponed);
  const [pin, setPin] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [waitUntil, setWaitUntil] = useState<number | null>(null);
  const [thanks, setThanks] = useState<string | null>(null);
  const field = useRef<HTMLInputElement>(null);
  const now = useTicker(1000, waitUntil !== null);
  const waiting = waitUntil !== null && waitUntil > now;

  useEffect(() => {
    if (thanks === null) return;
    const timer = setTimeout(() => setThanks(null), THANKS_MS);
    return () => clearTimeout(timer);
  }, [thanks]);

  if (thanks !== null) {
    return (
      <div class="pin-reminder card" role="status">
        <p>{thanks}</p>
      </div>
    );
  }
  if (hidden || security === null || !security.pinReminderDue) return null;

  const check = async (event: Event) => {
    event.preventDefault();
    if (!isWholePin(pin) || busy || waiting) return;
    setBusy(true);
    setError(null);
    try {
      const next = await client.verifyPin(pin);
      const clock = serverClock(client);
      setThanks(
        next.pinReminderAt > 0
          ? `That’s right. Pairwise will ask again ${formatIn(clock.toLocal(next.pinReminderAt))}.`
          : 'That’s right.',
      );
      setPin('');
    } catch (failure) {
      const refusal = describePinRefusal(failure, serverClock(client).toLocal);
      setError(refusal?.message ?? describeError(failure));
      setWaitUntil(refusal?.waitUntil ?? null);
      if (refusal?.clear) setPin('');
      field.current?.focus();
    }
    setBusy(false);
  };

  return (
    <form class="pin-reminder card" aria-labelledby="pin-reminder-title" onSubmit={(event) => void check(event)} noValidate>
      <h2 id="pin-reminder-title">Do you remember your two-step PIN?</h2>
      <p id="pin-reminder-hint" class="hint">
        Enter it to keep it fresh in your mind: you need it to link a computer.
      </p>
      <PinInput
        label="Your PIN"
        value={pin}
        onValue={setPin}
        inputRef={field}
        invalid={error !== null}
        describedBy="pin-reminder-hint pin-reminder-error"
        disabled={busy}
      />
      <p id="pin-reminder-error" class="error" role="alert">
        {error}
      </p>
      <div class="actions">
        <button type="submit" class="button primary" disabled={!isWholePin(pin) || busy || waiting} aria-busy={busy}>
          Check
        </button>
        <button
          type="button"
          class="button"
          onClick={() => {
            postponed = true;
            setHidden(true);
          }}
        >
          Not now
        </button>
      </div>
    </form>
  );
}
