/**
 * The app's states: finding out what this browser is, the link screen (a computer not linked
 * yet), account creation (a phone), a device at work, and "Pairwise is open in another tab" while
 * another tab has the device. Log out, from here or from the phone, wipes the browser and comes
 * back to the link screen saying so.
 * @module
 */
import { DeviceInUseError } from '@pairwise/client/device-lock';
import type { MemoryStore } from '@pairwise/client/memory-store';
import { useEffect, useState } from 'preact/hooks';
import { LinkScreen } from './link/link-screen.js';
import { CreateAccount } from './onboarding/create-account.js';
import { looksLikeAPhone } from './platform/user-agent.js';
import { wipeBrowserData } from './platform/wipe.js';
import { createAccountSession, linkedSession, resumeSession, type Session } from './session.js';
import { CompanionShell } from './shell/companion-shell.js';
import { InAnotherTab } from './shell/in-another-tab.js';
import { PhoneShell } from './shell/phone-shell.js';
import { describeError } from './ui/describe-error.js';
import { navigate } from './ui/router.js';
import { Loading } from './ui/spinner.js';
import { UpdateGuard } from './update/update-guard.js';

type AppState =
  | { readonly kind: 'starting' }
  | { readonly kind: 'link'; readonly notice: string | null }
  | { readonly kind: 'create' }
  | { readonly kind: 'opening' }
  | { readonly kind: 'ready'; readonly session: Session }
  /** Another tab has the device; `moving` once "Use here" asked it to let go. */
  | { readonly kind: 'in-use'; readonly moving: boolean }
  | { readonly kind: 'failed'; readonly message: string };

const LOGGED_OUT_NOTICES: Record<string, string> = {
  'logged-out': 'You logged out. Pairwise deleted everything it kept in this browser.',
  removed: 'This browser was logged out from your phone. Pairwise deleted everything it kept in this browser.',
  // Removed while this browser was closed or offline: the server no longer says by whom.
  'removed-while-away':
    'While it was closed, this browser was logged out from your phone. If you did not do it, Pairwise logged it out automatically because it, or your phone, went unused for too long. Pairwise deleted everything it kept in this browser.',
  // The server says 'expired' for every automatic log out: this computer unused for longer than the
  // phone's setting, the phone itself unused, or a temporary session whose tab had closed.
  expired:
    'This browser was logged out automatically: it, or your phone, was not used for longer than your phone’s settings allow. Pairwise deleted everything it kept in this browser.',
};

/** The whole app. */
export function App() {
  const [state, setState] = useState<AppState>({ kind: 'starting' });

  /** Opens the device this browser is; with `takeOver`, from the tab that has it ("Use here"). */
  const resume = (takeOver: boolean) =>
    resumeSession({ takeOver })
      .then((session) => setState(session ? { kind: 'ready', session } : firstScreen()))
      .catch((error: unknown) => setState(stateAfter(error)));

  useEffect(() => {
    void resume(false);
  }, []);

  const session = state.kind === 'ready' ? state.session : null;
  useEffect(() => {
    if (session === null) return;
    if (location.pathname === '/' || (!session.client.isPrimary && !location.pathname.startsWith('/chats'))) {
      navigate('/chats', { replace: true });
    }
    // Logged out (by this browser's menu, from the phone, or by expiry): the SDK has wiped its
    // store; wipe the rest and start over.
    let current = true;
    // "Use here" in another tab: the client has stopped and let the device go. Nothing of the
    // chats stays here: the chats are dropped, the store closed (with the app lock's key), and the
    // screens give way to the card that can move the device back.
    void session.takenOver.then(() => {
      session.chats.stop();
      void session.store.close().catch(() => {});
      if (current) setState({ kind: 'in-use', moving: false });
    });
    void session.loggedOut.then(async ({ reason }) => {
      session.chats.stop();
      await wipeBrowserData();
      if (!current) return;
      navigate('/', { replace: true });
      setState({ kind: 'link', notice: LOGGED_OUT_NOTICES[reason] ?? LOGGED_OUT_NOTICES.removed ?? null });
    });
    return () => {
      current = false;
    };
  }, [session]);

  const open = (making: Promise<Session>) => {
    setState({ kind: 'opening' });
    return making.then((made) => setState({ kind: 'ready', session: made }));
  };

  switch (state.kind) {
    case 'starting':
    case 'opening':
      return (
        <main class="splash">
          <Loading label={state.kind === 'starting' ? 'Opening Pairwise…' : 'Opening your chats…'} />
        </main>
      );
    case 'link':
      return (
        <LinkScreen
          notice={state.notice}
          onChoosePhone={() => setState({ kind: 'create' })}
          onLinked={(store: MemoryStore, temporary: boolean) =>
            void open(linkedSession(store, { temporary })).catch((error: unknown) =>
              setState(
                error instanceof DeviceInUseError
                  ? { kind: 'in-use', moving: false }
                  : { kind: 'link', notice: `Linking did not finish: ${describeError(error)} Scan the new code to try again.` },
              ),
            )
          }
        />
      );
    case 'create':
      return (
        <CreateAccount
          onCreate={async (username) => {
            let made: Session;
            try {
              made = await createAccountSession(username);
            } catch (error) {
              // Another tab of this browser already is a device: offer to use it here instead.
              if (!(error instanceof DeviceInUseError)) throw error;
              setState({ kind: 'in-use', moving: false });
              return;
            }
            navigate('/chats', { replace: true });
            setState({ kind: 'ready', session: made });
          }}
          onBack={() => setState({ kind: 'link', notice: null })}
        />
      );
    case 'ready':
      return (
        <UpdateGuard client={state.session.client} temporary={state.session.temporary}>
          {state.session.client.isPrimary ? <PhoneShell session={state.session} /> : <CompanionShell session={state.session} />}
        </UpdateGuard>
      );
    case 'in-use':
      return (
        <InAnotherTab
          moving={state.moving}
          onUseHere={() => {
            setState({ kind: 'in-use', moving: true });
            void resume(true);
          }}
        />
      );
    case 'failed':
      return (
        <main class="splash">
          <div class="card" role="alert">
            <h1>Pairwise could not start</h1>
            <p>{state.message}</p>
            <button type="button" class="button primary" onClick={() => location.reload()}>
              Try again
            </button>
          </div>
        </main>
      );
  }
}

/** The screen after a failed start: the card when another tab has the device, the error otherwise. */
function stateAfter(error: unknown): AppState {
  if (error instanceof DeviceInUseError) return { kind: 'in-use', moving: false };
  return { kind: 'failed', message: describeError(error) };
}

/** A computer starts on the link screen; a phone on account creation (it can switch either way). */
function firstScreen(): AppState {
  return looksLikeAPhone() ? { kind: 'create' } : { kind: 'link', notice: null };
}
