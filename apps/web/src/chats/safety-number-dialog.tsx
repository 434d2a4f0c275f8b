/**
 * "Verify safety number" (SPEC SAFETY-1, VERIFY-1): the 60 digits both people see, in 12 groups
 * of 5, and this side's QR code; "Scan their code" reads the other phone's code (camera, or a
 * picture) and a match marks the contact verified. "Mark as verified" after comparing the digits
 * in person, "Clear verification" to undo it. Decisions are synced to this person's other devices
 * by the SDK, and come back here as 'verification-changed'.
 * @module
 */
import { SafetyNumberChangedError } from '@pairwise/client/errors';
import type { SafetyNumberView, ScanResult } from '@pairwise/client/verification';
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { CodeScanner } from '../devices/code-scanner.js';
import { QrCode } from '../link/qr-code.js';
import type { Session } from '../session.js';
import { describeError } from '../ui/describe-error.js';
import { Dialog } from '../ui/dialog.js';
import { Loading } from '../ui/spinner.js';

/** What the last scan or decision came to. */
type Outcome = { readonly kind: 'scan'; readonly result: ScanResult } | { readonly kind: 'error'; readonly message: string };

/** Props of the dialog. */
export interface SafetyNumberDialogProps {
  readonly session: Session;
  /** The contact. */
  readonly chatId: string;
  readonly onClose: () => void;
}

/** The safety number with one contact, as a modal dialog. */
export function SafetyNumberDialog({ session, chatId, onClose }: SafetyNumberDialogProps) {
  const { client, chats } = session;
  const state = chats.verificationOf(chatId);
  // A key change makes a new safety number: read it again then.
  const keyChanges = chats.timeline(chatId).filter((item) => item.kind === 'notice' && item.notice === 'safety-number-changed').length;
  const [number, setNumber] = useState<SafetyNumberView | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [scanning, setScanning] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState(false);
  // Bumped when the SDK says the number shown is no longer the contact's.
  const [stale, setStale] = useState(0);

  useEffect(() => {
    let current = true;
    client.safetyNumber(chatId).then(
      (view) => current && setNumber(view),
      (error: unknown) => current && setLoadError(describeError(error)),
    );
    return () => {
      current = false;
    };
  }, [client, chatId, keyChanges, stale]);

  const act = async (action: () => Promise<Outcome | null>) => {
    setBusy(true);
    try {
      setOutcome(await action());
    } catch (error) {
      if (error instanceof SafetyNumberChangedError) setStale((count) => count + 1);
      setOutcome({ kind: 'error', message: describeError(error) });
    } finally {
      setBusy(false);
    }
  };

  const compare = (text: string) => {
    setScanning(false);
    void act(async () => ({ kind: 'scan', result: await client.compareSafetyNumber(chatId, text) }));
  };

  return (
    <Dialog title={`Safety number with ${chatId}`} onClose={onClose} class="safety-dialog">
      <p class="hint">
        Compare these numbers with the ones on {chatId}’s phone, or scan the code on their phone. If they match, your
        messages with {chatId} are end-to-end encrypted for them and nobody else.
      </p>
      <p class={`verification-state ${state}`}>
        <strong>{state === 'verified' ? 'Verified' : 'Not verified'}</strong>
      </p>
      {state === 'held' && (
        <p class="warning">
          {chatId}'s safety number changed since you verified it. Messages you send wait until you verify it again or
          choose Send anyway.
        </p>
      )}
      {number === null ? (
        loadError === null ? (
          <Loading label="Working out the safety number…" />
        ) : (
          <p class="error" role="alert">
            The safety number could not be shown: {loadError}
          </p>
        )
      ) : (
        <div class="safety-body">
          <div class="safety-number" role="region" aria-label="Safety number">
            {number.groups.map((group, index) => (
              // A space between the groups (not laid out in the grid), so that copied or read text keeps them apart.
              <Fragment key={index}>
                {index > 0 && ' '}
                <span>{group}</span>
              </Fragment>
            ))}
          </div>
          {scanning ? (
            <CodeScanner instructions={`Point the camera at the code on ${chatId}’s phone.`} onCode={compare} />
          ) : (
            <div class="safety-qr">
              <QrCode text={number.qrText} label="Safety number QR code" size={208} />
            </div>
          )}
        </div>
      )}
      {outcome !== null && <OutcomeMessage outcome={outcome} name={chatId} />}
      <div class="dialog-actions">
        <button
          type="button"
          class="button"
          disabled={number === null || busy}
          onClick={() => {
            setOutcome(null);
            setScanning(!scanning);
          }}
        >
          {scanning ? 'Show my code' : 'Scan their code'}
        </button>
        {state === 'verified' ? (
          <button type="button" class="button" disabled={busy} onClick={() => void act(() => client.clearVerification(chatId).then(() => null))}>
            Clear verification
          </button>
        ) : (
          <button type="button" class="button primary" disabled={busy || number === null} onClick={() => void act(() => client.markVerified(chatId, number!.digits).then(() => null))}>
            Mark as verified
          </button>
        )}
        <button type="button" class="button" onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}

/** What a scan said, or why a decision could not be made. A mismatch is an alert. */
function OutcomeMessage({ outcome, name }: { readonly outcome: Outcome; readonly name: string }) {
  if (outcome.kind === 'error') {
    return (
      <p class="error" role="alert">
        {outcome.message}
      </p>
    );
  }
  switch (outcome.result) {
    case 'verified':
      return (
        <p class="scan-outcome match" role="status">
          The codes match. {name} is now verified.
        </p>
      );
    case 'mismatch':
      return (
        <div class="scan-outcome refusal" role="alert">
          <h3>The codes do not match</h3>
          <p>
            Either {name}’s key changed (they set up Pairwise again, or on a new phone) and one of your phones does not
            know it yet, or this is not {name}’s phone. Nothing was marked verified. Make sure you are scanning {name}’s
            own phone, in person, then try again.
          </p>
        </div>
      );
    case 'not-a-safety-number':
      return (
        <div class="scan-outcome refusal" role="alert">
          <h3>Not a safety number</h3>
          <p>This QR code is not a Pairwise safety number. Scan the code {name}’s phone shows under “Verify safety number”.</p>
        </div>
      );
  }
}
