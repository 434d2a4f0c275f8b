/**
 * The phone (primary device): Chats, Linked devices and Settings.
 * @module
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { PhoneUnusedBanner } from '../alerts/phone-unused-banner.js';
import { PinReminder } from '../alerts/pin-reminder.js';
import { SecurityAlerts } from '../alerts/security-alerts.js';
import { ChatsView } from '../chats/chats-view.js';
import { LinkDevice } from '../devices/link-device.js';
import { LinkedDevices } from '../devices/linked-devices.js';
import type { Session } from '../session.js';
import { Link, navigate, useRoute } from '../ui/router.js';
import { useChanges } from '../ui/use-changes.js';
import { ConnectionStatus } from './connection-status.js';
import { Settings } from './settings.js';
import { AppHeader } from './app-header.js';

/** The phone's whole screen. */
export function PhoneShell({ session }: { readonly session: Session }) {
  const path = useRoute();
  const [flash, setFlash] = useState<string | null>(null);
  const { chats } = session;
  useChanges(useCallback((listener: () => void) => chats.subscribe(listener), [chats]));
  const unread = chats.list().reduce((sum, chat) => sum + chat.unread, 0);
  const section = path.startsWith('/devices') ? 'devices' : path.startsWith('/settings') ? 'settings' : 'chats';
  // "X is linked" is said once, on the list the phone returns to; not again on later visits.
  useEffect(() => {
    if (path !== '/devices') setFlash(null);
  }, [path]);

  return (
    <div class="shell phone">
      <AppHeader accountId={session.client.accountId} />
      <nav class="app-nav" aria-label="Main">
        <Link to="/chats" current={section === 'chats'}>
          Chats
          {unread > 0 && (
            <span class="badge nav-badge">
              {unread}
              <span class="visually-hidden"> unread</span>
            </span>
          )}
        </Link>
        <Link to="/devices" current={section === 'devices'}>
          Linked devices
        </Link>
        <Link to="/settings" current={section === 'settings'}>
          Settings
        </Link>
      </nav>
      <ConnectionStatus client={session.client} />
      <PhoneUnusedBanner client={session.client} />
      <SecurityAlerts session={session} />
      <main class="app-main">
        {/* Not on the link confirmation, which asks for the PIN itself. */}
        {path !== '/devices/link' && <PinReminder client={session.client} />}
        {section === 'chats' && (
          <>
            <h1 class="visually-hidden">Chats</h1>
            <ChatsView session={session} />
          </>
        )}
        {path === '/devices' && <LinkedDevices session={session} flash={flash} onLinkDevice={() => navigate('/devices/link')} />}
        {path === '/devices/link' && (
          <LinkDevice
            session={session}
            onLinked={(name) => {
              setFlash(`${name || 'The device'} is linked. Not you? Log it out below.`);
              navigate('/devices', { replace: true });
            }}
            onCancel={() => navigate('/devices', { replace: true })}
          />
        )}
        {section === 'settings' && <Settings session={session} />}
      </main>
    </div>
  );
}
