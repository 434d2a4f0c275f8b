/**
 * What this phone is and what it keeps.
 * @module
 */
import type { Session } from '../session.js';

/** The phone's settings screen. */
export function Settings({ session }: { readonly session: Session }) {
  return (
    <section class="page settings" aria-labelledby="settings-title">
      <header class="page-header">
        <h1 id="settings-title">Settings</h1>
      </header>
      <dl class="facts">
        <dt>Username</dt>
        <dd>{session.client.accountId}</dd>
        <dt>Server</dt>
        <dd>{location.host}</dd>
        <dt>This device</dt>
        <dd>Your phone: it holds your account key, which never leaves it, and decides which computers are linked.</dd>
      </dl>
      <p class="hint">
        Your messages are end-to-end encrypted on this device. Keys are kept by the browser in a form that scripts can
        use but cannot read out.
      </p>
    </section>
  );
}
