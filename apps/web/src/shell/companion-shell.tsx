/**
 * A linked computer: the chats, and Menu → Log out (confirmed), which removes this device from the
 * account and wipes what the browser kept. Menu → App lock… sets a passcode; while locked, the lock
 * screen replaces everything (lock/).
 * @module
 */
import { useState } from 'preact/hooks';
import { PhoneUnusedBanner } from '../alerts/phone-unused-banner.js';
import { SecurityAlerts } from '../alerts/security-alerts.js';
import { ChatsView } from '../chats/chats-view.js';
import { TemporarySession } from '../link/temporary-session.js';
import { LockNowButton, lockMenuItems } from '../lock/lock-menu.js';
import { LockScreen } from '../lock/lock-screen.js';
import { LockSettingsDialog } from '../lock/lock-settings-dialog.js';
import { useAppLock } from '../lock/use-app-lock.js';
import type { Session } from '../session.js';
import { ConfirmDialog } from '../ui/dialog.js';
import { ConnectionStatus } from './connection-status.js';
import { Menu } from './menu.js';
import { AppHeader } from './app-header.js';

/** The companion's whole screen. */
export function CompanionShell({ session }: { readonly session: Session }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [lockSettings, setLockSettings] = useState(false);
  const appLock = useAppLock(session);

  const logOut = async () => {
    setBusy(true);
    try {
      await session.client.logOut();
    } catch {
      // Wiped all the same (the SDK wipes in any case); the app hears 'logged-out' and moves on.
    }
  };

  if (appLock.locked) return <LockScreen session={session} appLock={appLock} />;

  return (
    <div class="shell companion">
      <AppHeader accountId={session.client.accountId}>
        <LockNowButton appLock={appLock} />
        <Menu
          label="Menu"
          items={[...lockMenuItems(appLock, () => setLockSettings(true)), { label: 'Log out', onSelect: () => setConfirming(true) }]}
        />
      </AppHeader>
      <ConnectionStatus client={session.client} />
      {session.temporary && <TemporarySession />}
      <PhoneUnusedBanner client={session.client} />
      <SecurityAlerts session={session} />
      <main class="app-main">
        <h1 class="visually-hidden">Pairwise chats</h1>
        <ChatsView session={appLock.session} />
      </main>
      {lockSettings && <LockSettingsDialog session={session} appLock={appLock} onClose={() => setLockSettings(false)} />}
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
