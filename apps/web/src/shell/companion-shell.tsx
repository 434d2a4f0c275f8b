/**
 * A linked computer: the chats, and Menu → Log out (confirmed), which removes this device from the
 * account and wipes what the browser kept.
 * @module
 */
import { useState } from 'preact/hooks';
import { PhoneUnusedBanner } from '../alerts/phone-unused-banner.js';
import { SecurityAlerts } from '../alerts/security-alerts.js';
import { ChatsView } from '../chats/chats-view.js';
import { TemporarySession } from '../link/temporary-session.js';
import type { Session } from '../session.js';
import { ConfirmDialog } from '../ui/dialog.js';
import { ConnectionStatus } from './connection-status.js';
import { Menu } from './menu.js';
import { AppHeader } from './app-header.js';

/** The companion's whole screen. */
export function CompanionShell({ session }: { readonly session: Session }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);

  const logOut = async () => {
    setBusy(true);
    try {
      await session.client.logOut();
    } catch {
      // Wiped all the same (the SDK wipes in any case); the app hears 'logged-out' and moves on.
    }
  };

  return (
    <div class="shell companion">
      <AppHeader accountId={session.client.accountId}>
        <Menu label="Menu" items={[{ label: 'Log out', onSelect: () => setConfirming(true) }]} />
      </AppHeader>
      <ConnectionStatus client={session.client} />
      {session.temporary && <TemporarySession />}
      <PhoneUnusedBanner client={session.client} />
      <SecurityAlerts session={session} />
      <main class="app-main">
        <h1 class="visually-hidden">Pairwise chats</h1>
        <ChatsView session={session} />
      </main>
      {confirming && (
        <ConfirmDialog
          title="Log out of this browser?"
          confirmLabel="Log out"
          busy={busy}
          onConfirm={() => void logOut()}
          onCancel={() => setConfirming(false)}
        >
          <p>This computer stops receiving your messages and deletes everything Pairwise kept in this browser. Your phone keeps your chats.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
