/**
 * The phone's "Link a device" screen: the camera scanner (or a picture), then a confirmation that
 * says which browser asks, from where and when, before anything is linked (SPEC LINK-5).
 * Link codes are accepted here and nowhere else.
 * @module
 */
import { LinkError, LinkErrorReason } from '@pairwise/client/errors';
import type { LinkRequestDetails } from '@pairwise/client/pairwise-client';
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatDateTime } from '../platform/format.js';
import { describePlace } from '../platform/place.js';
import { describeUserAgent } from '../platform/user-agent.js';
import type { Session } from '../session.js';
import { describeError } from '../ui/describe-error.js';
import { Loading } from '../ui/spinner.js';
import type { CameraScan } from './qr-scanner.js';

type Step =
  | { readonly kind: 'scanning'; readonly cameraError: string | null }
  | { readonly kind: 'checking' }
  | { readonly kind: 'confirm'; readonly details: LinkRequestDetails; readonly approve: () => Promise<void>; readonly error: string | null }
  | { readonly kind: 'linking'; readonly details: LinkRequestDetails }
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
  const [step, setStep] = useState<Step>({ kind: 'scanning', cameraError: null });
  const [cameraAttempt, setCameraAttempt] = useState(0);
  const video = useRef<HTMLVideoElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  const inspect = async (text: string) => {
    setStep({ kind: 'checking' });
    try {
      const { details, approve } = await session.client.inspectLink(text);
      setStep({ kind: 'confirm', details, approve, error: null });
    } catch (error) {
      setStep(refusal(error));
    }
  };

  const scanning = step.kind === 'scanning';
  useEffect(() => {
    if (!scanning) return;
    let scan: CameraScan | null = null;
    let cancelled = false;
    (async () => {
      // The decoder is loaded here, on this screen only.
      const { scanCamera } = await import('./qr-scanner.js');
      if (cancelled || !video.current) return;
      if (!navigator.mediaDevices?.getUserMedia) throw new DOMException('no camera API', 'NotSupportedError');
      const started = await scanCamera(video.current, (text) => void inspect(text));
      if (cancelled) started.stop();
      else scan = started;
    })().catch((error: unknown) => {
      if (!cancelled) setStep({ kind: 'scanning', cameraError: describeCameraError(error) });
    });
    return () => {
      cancelled = true;
      scan?.stop();
    };
    // `inspect` only sets state; a new camera attempt or a return to scanning restarts the camera.
  }, [scanning, cameraAttempt]);

  const scanFile = async (file: File) => {
    setStep({ kind: 'checking' });
    try {
      const { scanImageFile } = await import('./qr-scanner.js');
      const text = await scanImageFile(file);
      if (text === null) {
        setStep({
          kind: 'refused',
          title: 'No QR code found',
          message: 'No QR code could be read in that picture. Take a sharp photo of the whole code on the computer’s screen and try again.',
        });
        return;
      }
      await inspect(text);
    } catch {
      setStep({ kind: 'refused', title: 'Picture not readable', message: 'That file could not be opened as a picture.' });
    }
  };

  const confirm = async () => {
    if (step.kind !== 'confirm') return;
    setStep({ kind: 'linking', details: step.details });
    try {
      await step.approve();
      onLinked(step.details.deviceName);
    } catch (error) {
      setStep({ ...step, error: describeError(error) });
    }
  };

  const again = () => {
    setStep({ kind: 'scanning', cameraError: null });
    setCameraAttempt((count) => count + 1);
  };

  return (
    <section class="page link-device" aria-labelledby="link-device-title">
      <header class="page-header">
        <h1 id="link-device-title">{step.kind === 'confirm' || step.kind === 'linking' ? 'Link this device?' : 'Link a device'}</h1>
      </header>

      {step.kind === 'scanning' && (
        <div class="scanner">
          <p>On the computer, open Pairwise and point this phone’s camera at the QR code it shows.</p>
          {step.cameraError === null ? (
            <div class="viewfinder">
              <video ref={video} aria-label="Camera view" muted playsInline />
            </div>
          ) : (
            <div class="camera-error" role="alert">
              <p>{step.cameraError}</p>
              <button type="button" class="button" onClick={again}>
                Try the camera again
              </button>
            </div>
          )}
        </div>
      )}

      {step.kind === 'checking' && <Loading label="Checking the code…" />}

      {(step.kind === 'confirm' || step.kind === 'linking') && <LinkDetails details={step.details} />}

      {step.kind === 'confirm' && step.error !== null && (
        <p class="error" role="alert">
          {step.error}
        </p>
      )}

      {step.kind === 'refused' && (
        <div class="refusal" role="alert">
          <h2>{step.title}</h2>
          <p>{step.message}</p>
        </div>
      )}

      <div class="actions">
        {step.kind === 'confirm' && (
          <button type="button" class="button primary" onClick={() => void confirm()}>
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
        {step.kind === 'scanning' && (
          <button type="button" class="button" onClick={() => fileInput.current?.click()}>
            Scan from image
          </button>
        )}
        <button type="button" class="button" onClick={onCancel} disabled={step.kind === 'linking'}>
          Cancel
        </button>
      </div>
      <input
        ref={fileInput}
        type="file"
        accept="image/*"
        class="visually-hidden"
        tabIndex={-1}
        aria-hidden="true"
        onChange={(event) => {
          const file = event.currentTarget.files?.[0];
          event.currentTarget.value = '';
          if (file) void scanFile(file);
        }}
      />
    </section>
  );
}

/** Who is asking: browser, place and time, with a warning when it is not on a local network. */
function LinkDetails({ details }: { readonly details: LinkRequestDetails }) {
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
        <dd>{formatDateTime(details.createdAt)}</dd>
      </dl>
      {place.remote && (
        <p class="warning" role="note">
          This computer is not on a local network. Only confirm if you are in front of it right now: someone who
          sent you a code could read your messages.
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

function describeCameraError(error: unknown): string {
  const name = error instanceof DOMException || error instanceof Error ? error.name : '';
  if (name === 'NotAllowedError') return 'Pairwise may not use the camera. Allow it in the browser’s settings, or use “Scan from image”.';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'No camera was found. Use “Scan from image” with a photo of the code.';
  if (name === 'NotReadableError') return 'The camera is in use by another app. Close it and try again, or use “Scan from image”.';
  if (name === 'NotSupportedError') return 'This browser cannot use the camera here. Use “Scan from image” with a photo of the code.';
  return 'The camera could not be started. Try again, or use “Scan from image”.';
}
