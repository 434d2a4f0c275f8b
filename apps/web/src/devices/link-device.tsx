/**
 * The phone's "Link a device" screen: the code scanner (the camera, or a picture), then a confirmation that
 * says which browser asks, from where and when, warns when it is not on this phone's network, and
 * asks for the two-step PIN when one is set, before anything is linked (SPEC LINK-5, LINK-6, PIN-2).
 * Link codes are accepted here and nowhere else.
 * @module
 */
import { LinkError, LinkErrorReason, RequestError } from '@pairwise/client/errors';
import type { LinkRequestDetails } from '@pairwise/client/pairwise-client';
import { useRef, useState } from 'preact/hooks';
import { serverClock } from '../alerts/server-clock.js';
import { useTicker } from '../alerts/use-security.js';
import { formatDateTime } from '../platform/format.js';
import { describePlace } from '../platform/place.js';
import { describeUserAgent } from '../platform/user-agent.js';
import type { Session } from '../session.js';
import { isWholePin, PinInput } from '../settings/pin-input.js';
import { describePinRefusal } from '../settings/pin-refusal.js';
import { describeError } from '../ui/describe-error.js';
import { Loading } from '../ui/spinner.js';
import { CodeScanner } from './code-scanner.js';

type Step =
  | { readonly kind: 'scanning' }
  | { readonly kind: 'checking' }
  | {
      readonly kind: 'confirm';
      readonly details: LinkRequestDetails;
      readonly approve: (pin?: string) => Promise<void>;
      readonly error: string | null;
      /** A PIN is asked for: the request said so, or the server refused without one. */
      readonly pinRequired: boolean;
      /** No PIN may be tried before this time (this device's clock), after too many wrong ones. */
      readonly waitUntil: number | null;
    }
  | { readonly kind: 'linking'; readonly details: LinkRequestDetails; readonly pinRequired: boolean }
  | { readonly kind: 'refused'; readonly title: string; readonly message: string };

/** Props of the link screen. */
export interface LinkDeviceProps {
  readonly session: Session;
  /** Linked: back to the list, saying so. */
  readonly onLinked: (deviceName: string) => void;
  readonly onCancel: () => void;
}

/** Scan, check, confirm. */
export function LinkDevice({ session, onLinked, onCancel }: LinkDeviceProps) {
  const [step, setStep] = useState<Step>({ kind: 'scanning' });
  const [pin, setPin] = useState('');
  const pinField = useRef<HTMLInputElement>(null);
  const waitUntil = step.kind === 'confirm' ? step.waitUntil : null;
  const now = useTicker(1000, waitUntil !== null);
  const waiting = waitUntil !== null && waitUntil > now;

  const inspect = async (text: string) => {
    setStep({ kind: 'checking' });
    setPin('');
    try {
      const { details, approve } = await session.client.inspectLink(text);
      setStep({ kind: 'confirm', details, approve, error: null, pinRequired: details.pinRequired, waitUntil: null });
    } catch (error) {
      setStep(refusal(error));
    }
  };

  const confirm = async () => {
    if (step.kind !== 'confirm' || waiting || (step.pinRequired && !isWholePin(pin))) return;
    setStep({ kind: 'linking', details: step.details, pinRequired: step.pinRequired });
    try {
      await step.approve(step.pinRequired ? pin : undefined);
      setPin('');
      onLinked(step.details.deviceName);
    } catch (error) {
      const refusal = describePinRefusal(error, serverClock(session.client).toLocal);
      const pinRequired = step.pinRequired || (error instanceof RequestError && error.code === 'PIN_REQUIRED');
      if (refusal?.clear) setPin('');
      setStep({ ...step, pinRequired, error: refusal?.message ?? describeError(error), waitUntil: refusal?.waitUntil ?? null });
      // Back to the PIN, which the next try needs (after the re-render that shows it).
      if (refusal !== null) setTimeout(() => pinField.current?.focus(), 0);
    }
  };
  const canConfirm = step.kind === 'confirm' && !waiting && (!step.pinRequired || isWholePin(pin));

  const again = () => setStep({ kind: 'scanning' });

  return (
    <section class="page link-device" aria-labelledby="link-device-title">
      <header class="page-header">
        <h1 id="link-device-title">{step.kind === 'confirm' || step.kind === 'linking' ? 'Link this device?' : 'Link a device'}</h1>
      </header>

      {step.kind === 'scanning' && (
        <CodeScanner
          instructions="On the computer, open Pairwise and point this phone’s camera at the QR code it shows."
          onCode={(text) => void inspect(text)}
        />
      )}

      {step.kind === 'checking' && <Loading label="Checking the code…" />}

      {(step.kind === 'confirm' || step.kind === 'linking') && <LinkDetails details={step.details} toLocal={serverClock(session.client).toLocal} />}

      {(step.kind === 'confirm' || step.kind === 'linking') && step.pinRequired && (
        <form
          class="link-pin"
          onSubmit={(event) => {
            event.preventDefault();
            void confirm();
          }}
          noValidate
        >
          <PinInput
            label="Two-step PIN"
            value={pin}
            onValue={setPin}
            inputRef={pinField}
            autoFocus
            invalid={step.kind === 'confirm' && step.error !== null}
            describedBy="link-pin-hint link-error"
            disabled={step.kind === 'linking' || waiting}
          />
          <p id="link-pin-hint" class="hint">
            Two-step verification is on: linking needs the 6-digit PIN you chose in Settings.
          </p>
        </form>
      )}

      <p id="link-error" class="error" role="alert">
        {step.kind === 'confirm' ? step.error : null}
      </p>

      {step.kind === 'refused' && (
        <div class="refusal" role="alert">
          <h2>{step.title}</h2>
          <p>{step.message}</p>
        </div>
      )}

      <div class="actions">
        {step.kind === 'confirm' && (
          <button type="button" class="button primary" onClick={() => void confirm()} disabled={!canConfirm}>
            Confirm link
          </button>
        )}
        {step.kind === 'linking' && (
          <button type="button" class="button primary" disabled aria-busy="true">
            Linking…
          </button>
        )}
        {step.kind === 'refused' && (
          <button type="button" class="button primary" onClick={again}>
            Scan again
          </button>
        )}
        <button type="button" class="button" onClick={onCancel} disabled={step.kind === 'linking'}>
          Cancel
        </button>
      </div>
    </section>
  );
}

/**
 * Who is asking: browser, place, time and whether the session is temporary, with a warning when
 * the computer is not on this phone's network (SPEC LINK-6).
 */
function LinkDetails({ details, toLocal }: { readonly details: LinkRequestDetails; readonly toLocal: (serverTime: number) => number }) {
  const place = describePlace(details.ipAddress);
  return (
    <div class="link-details">
      <dl>
        <dt>Device</dt>
        <dd>{details.deviceName || 'Unnamed browser'}</dd>
        <dt>Browser</dt>
        <dd>
          {describeUserAgent(details.userAgent)}
          <span class="fine-print">{details.userAgent}</span>
        </dd>
        <dt>Place</dt>
        <dd>{place.label}</dd>
        <dt>Time</dt>
        <dd>{formatDateTime(toLocal(details.createdAt))}</dd>
        {details.temporary && (
          <>
            <dt>Session</dt>
            <dd>
              <span class="badge-label">Temporary session</span>
              <span class="fine-print">Nothing is saved on that computer; it is logged out when its tab closes.</span>
            </dd>
          </>
        )}
      </dl>
      {!details.sameNetwork && (
        <p class="warning" role="note">
          This computer is not on your phone's network. Link only a computer that is in front of you.
        </p>
      )}
      <p>The computer will show your chats and can send messages as you until you log it out from this phone.</p>
    </div>
  );
}

function refusal(error: unknown): Step {
  if (error instanceof LinkError) {
    switch (error.reason) {
      case LinkErrorReason.WrongOrigin:
        return {
          kind: 'refused',
          title: 'This code is for another server',
          message: `${error.message} Nothing was linked. Only scan codes shown by ${location.host}; a page showing this code may be a phishing copy of Pairwise.`,
        };
      case LinkErrorReason.NotALinkCode:
        return {
          kind: 'refused',
          title: 'Not a Pairwise link code',
          message: 'This QR code is not a Pairwise link code. On the computer, open Pairwise and scan the code on its link screen.',
        };
      case LinkErrorReason.NotPrimary:
        return { kind: 'refused', title: 'Only your phone can link devices', message: error.message };
    }
  }
  return { kind: 'refused', title: 'The code could not be used', message: describeError(error) };
}
