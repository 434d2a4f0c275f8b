/**
 * Keeps an open app in step with its server (SPEC VERSION-3, VERSION-4):
 * - when the server refuses this app as too old (UPDATE_REQUIRED), the whole screen says so and
 *   offers a reload, which fetches the new build; nothing is wiped, the device stays linked
 *   (except a temporary session, whose keys are in the tab's memory only: the texts say so);
 * - when the server serves a newer build than the one running (its /api/version `appBuild`
 *   differs from this page's build id), a banner offers "Reload to update" without interrupting.
 * The server is asked when the app opens, each time its connection comes (back) online, and every
 * 10 minutes.
 * @module
 */
import type { PairwiseClient } from '@pairwise/client/pairwise-client';
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { APP_PROTOCOL_VERSION, appBuild } from './app-version.js';
import { fetchServerVersion } from './server-version.js';
import './update.css';

/** How often an open app asks whether a new build is served. */
export const UPDATE_CHECK_INTERVAL_MS = 10 * 60 * 1000;

/** Props of `UpdateGuard`. */
export interface UpdateGuardProps {
  readonly client: PairwiseClient;
  /** A temporary session: a reload ends it, and the texts must not promise otherwise. */
  readonly temporary?: boolean;
  readonly children: ComponentChildren;
}

/** Shows `children`, or "Update required" once the server refuses this app as too old. */
export function UpdateGuard({ client, temporary = false, children }: UpdateGuardProps) {
  const [required, setRequired] = useState(false);
  const [newBuild, setNewBuild] = useState(false);

  useEffect(() => {
    let current = true;
    const check = async () => {
      const server = await fetchServerVersion();
      if (!current || server === null) return;
      if (server.minProtocolVersion > APP_PROTOCOL_VERSION) setRequired(true);
      const mine = appBuild();
      setNewBuild(mine !== null && server.appBuild !== null && server.appBuild !== mine);
    };
    const offAuth = client.on('auth-error', ({ code }) => {
      if (code === 'UPDATE_REQUIRED') setRequired(true);
    });
    const offState = client.on('connection', ({ state }) => {
      if (state === 'online') void check();
    });
    // Also once now: the server may have refused this app before this screen was up (the SDK's
    // event is gone by then), or the page may come from an older build than the server serves.
    void check();
    const timer = setInterval(() => void check(), UPDATE_CHECK_INTERVAL_MS);
    return () => {
      current = false;
      offAuth();
      offState();
      clearInterval(timer);
    };
  }, [client]);

  if (required) return <UpdateRequired temporary={temporary} />;
  return (
    <>
      <div class={`update-banner ${newBuild ? '' : 'hidden'}`} role="status">
        {newBuild ? (
          <>
            <span>
              A new version of Pairwise is available.
              {temporary && ' Reloading ends this temporary session: link this computer again from your phone afterwards.'}
            </span>
            <button type="button" class="button primary small" onClick={() => location.reload()}>
              Reload to update
            </button>
          </>
        ) : null}
      </div>
      {children}
    </>
  );
}

/** The full screen shown when the server no longer accepts this version of the app. */
export function UpdateRequired({ temporary = false }: { readonly temporary?: boolean }) {
  return (
    <main class="splash">
      <div class="card" role="alert">
        <h1>Update required</h1>
        <p>
          This copy of Pairwise is older than the server, which no longer accepts it. Reload to get the new version.{' '}
          {temporary
            ? 'This temporary session ends with the reload: link this computer again from your phone afterwards.'
            : 'Your messages stay in this browser and it stays linked to your phone.'}
        </p>
        <button type="button" class="button primary" onClick={() => location.reload()}>
          Reload
        </button>
      </div>
    </main>
  );
}
