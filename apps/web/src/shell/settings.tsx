/**
 * The phone's settings: what this phone is, two-step verification, automatic log out, and the way
 * to the security log (/settings/security-log).
 * @module
 */
import type { Session } from '../session.js';
import { PoliciesSection } from '../settings/policies-section.js';
import { SecurityLog } from '../settings/security-log.js';
import { TwoStepSection } from '../settings/two-step-section.js';
import { Link, useRoute } from '../ui/router.js';

/** Where the security log lives. */
export const SECURITY_LOG_PATH = '/settings/security-log';

/** The phone's settings screen, or its security log. */
export function Settings({ session }: { readonly session: Session }) {
  const path = useRoute();
  const { client } = session;
  if (path === SECURITY_LOG_PATH) return <SecurityLog client={client} />;
  return (
    <section class="page settings" aria-labelledby="settings-title">
      <header class="page-header">
        <h1 id="settings-title">Settings</h1>
      </header>
      <dl class="facts">
        <dt>Username</dt>
        <dd>{client.accountId}</dd>
        <dt>Server</dt>
        <dd>{location.host}</dd>
        <dt>This device</dt>
        <dd>Your phone: it holds your account key, which never leaves it, and decides which computers are linked.</dd>
      </dl>
      <p class="hint">
        Your messages are end-to-end encrypted on this device. Keys are kept by the browser in a form that scripts can
        use but cannot read out.
      </p>
      <TwoStepSection client={client} />
      <PoliciesSection client={client} />
      <section class="settings-section" aria-labelledby="log-link-title">
        <h2 id="log-link-title">Security log</h2>
        <p class="hint">Links, log outs, PIN changes and wrong PINs, with when and where.</p>
        <Link to={SECURITY_LOG_PATH} class="button">
          Open the security log
        </Link>
      </section>
    </section>
  );
}
