/**
 * The companion's first screen: a QR code for the phone to scan (SPEC LINK-*). It renews itself
 * every 25 s for 5 minutes, then offers "Reload QR code" rather than leave a stale code up.
 * Until the phone approves, the browser's new keys live in memory only; with "Keep me signed in"
 * unticked they stay there for good (SPEC TEMP-1, TEMP-2).
 * @module
 */
import { LinkRequest } from '@pairwise/client/link-request';
import { MemoryStore } from '@pairwise/client/memory-store';
import { useEffect, useRef, useState } from 'preact/hooks';
import { connectOptions } from '../platform/connection.js';
import { thisBrowserName } from '../platform/user-agent.js';
import { Loading } from '../ui/spinner.js';
import { QrCode } from './qr-code.js';

type LinkState =
  | { readonly kind: 'starting' }
  | { readonly kind: 'showing'; readonly text: string }
  | { readonly kind: 'expired' }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'linked' };

/** Props of the link screen. */
export interface LinkScreenProps {
  /** Why the screen is shown again (logged out), or null on a first visit. */
  readonly notice: string | null;
  /**
   * The phone approved: `store` holds this browser's new device, to be kept on disk, or, when
   * `temporary`, in memory only.
   */
  readonly onLinked: (store: MemoryStore, temporary: boolean) => void;
  /** "Use this device as your phone". */
  readonly onChoosePhone: () => void;
}

/** The QR code, the steps, and the way to the phone role instead. */
export function LinkScreen({ notice, onLinked, onChoosePhone }: LinkScreenProps) {
  const [state, setState] = useState<LinkState>({ kind: 'starting' });
  const [attempt, setAttempt] = useState(0);
  // Ticked on every start: remembering an untick would mean writing to this computer's disk.
  const [keepSignedIn, setKeepSignedIn] = useState(true);
  // The latest callback, without restarting the request when the parent re-renders.
  const linked = useRef(onLinked);
  linked.current = onLinked;

  useEffect(() => {
    const store = new MemoryStore();
    const temporary = !keepSignedIn;
    // The choice is part of the request the phone sees, so a change makes a new request: the codes
    // already shown die with the old connection.
    const request = new LinkRequest({ ...connectOptions(store), deviceName: thisBrowserName(), temporary });
    request.on('qr', ({ text }) => setState({ kind: 'showing', text }));
    request.on('expired', () => setState({ kind: 'expired' }));
    request.on('error', (error) => setState({ kind: 'failed', message: describeLinkError(error) }));
    request.on('linked', () => {
      setState({ kind: 'linked' });
      linked.current(store, temporary);
    });
    setState({ kind: 'starting' });
    request.start().catch((error: unknown) => setState({ kind: 'failed', message: describeLinkError(error) }));
    return () => request.cancel();
  }, [attempt, keepSignedIn]);

  const reload = () => setAttempt((count) => count + 1);

  return (
    <main class="link-screen">
      <section class="link-card" aria-labelledby="link-title">
        <div class="link-text">
          <h1 id="link-title">Use Pairwise on this computer</h1>
          {notice !== null && (
            <p class="notice" role="status">
              {notice}
            </p>
          )}
          <ol class="steps">
            <li>Open Pairwise on your phone</li>
            <li>
              Go to <strong>Linked devices</strong>
            </li>
            <li>
              Tap <strong>Link a device</strong>
            </li>
            <li>Point your phone at this screen</li>
          </ol>
          <p class="hint">
            The code changes every 25 seconds and works once. Only scan it with your own phone, in the Pairwise app.
          </p>
          <div class="keep-signed-in">
            <label>
              <input
                type="checkbox"
                checked={keepSignedIn}
                disabled={state.kind === 'linked'}
                aria-describedby="keep-signed-in-hint"
                onChange={(event) => setKeepSignedIn(event.currentTarget.checked)}
              />
              Keep me signed in
            </label>
            <p id="keep-signed-in-hint" class="hint">
              Untick on a public or shared computer: closing the tab logs you out and nothing is saved.
            </p>
          </div>
        </div>
        <div class="qr-box" aria-live="polite">
          {state.kind === 'starting' && <Loading label="Preparing a code…" />}
          {state.kind === 'showing' && <QrCode text={state.text} label="Link QR code" />}
          {state.kind === 'linked' && <Loading label="Linked. Opening your chats…" />}
          {state.kind === 'expired' && (
            <div class="qr-stale">
              <p>The code expired to keep your account safe.</p>
              <button type="button" class="button primary" onClick={reload}>
                Reload QR code
              </button>
            </div>
          )}
          {state.kind === 'failed' && (
            <div class="qr-stale">
              <p class="error" role="alert">
                {state.message}
              </p>
              <button type="button" class="button primary" onClick={reload}>
                Reload QR code
              </button>
            </div>
          )}
        </div>
      </section>
      <p class="role-switch">
        Is this your phone?{' '}
        <button type="button" class="button small" onClick={onChoosePhone}>
          Use this device as your phone
        </button>
      </p>
    </main>
  );
}

function describeLinkError(error: unknown): string {
  const detail = error instanceof Error ? error.message : String(error);
  if (/closed/.test(detail)) return 'The connection to the server was lost. Reload the code to try again.';
  if (/did not verify/.test(detail)) return 'The phone’s answer could not be verified, so this browser was not linked. Reload the code to try again.';
  return `Pairwise could not get a code from the server (${detail}). Reload the code to try again.`;
}
