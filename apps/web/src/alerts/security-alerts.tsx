/**
 * "New device linked" and "Linking locked" on every device (SPEC ALERT-1, PIN-3). Each is an
 * alert region that screen readers announce at once, without taking focus from what the user is
 * doing. On the phone, a new device can be logged out from the alert in one tap; a companion
 * cannot remove devices, so it says to check the phone.
 * @module
 */
import { useCallback, useEffect, useRef } from 'preact/hooks';
import { formatDateTime } from '../platform/format.js';
import { describePlace } from '../platform/place.js';
import { describeUserAgent } from '../platform/user-agent.js';
import type { Session } from '../session.js';
import { describeError } from '../ui/describe-error.js';
import { useChanges } from '../ui/use-changes.js';
import type { AlertFeed, SecurityAlert } from './alert-feed.js';
import { formatUntil } from './format-until.js';
import { serverClock } from './server-clock.js';

/** The stack of alerts under the header. */
export function SecurityAlerts({ session }: { readonly session: Session }) {
  const { alerts } = session;
  useChanges(useCallback((listener: () => void) => alerts.subscribe(listener), [alerts]));
  const shown = alerts.list();
  if (shown.length === 0) return null;
  return (
    <div class="security-alerts">
      {shown.map((alert) =>
        alert.kind === 'device-linked' ? (
          <NewDeviceAlert key={alert.key} alert={alert} session={session} feed={alerts} />
        ) : (
          <LockedAlert key={alert.key} alert={alert} session={session} feed={alerts} />
        ),
      )}
    </div>
  );
}

type LinkedAlert = Extract<SecurityAlert, { kind: 'device-linked' }>;

function NewDeviceAlert({ alert, session, feed }: { readonly alert: LinkedAlert; readonly session: Session; readonly feed: AlertFeed }) {
  const { client } = session;
  const { device, removal } = alert;
  const titleId = `alert-${alert.key.replace(/[^a-z0-9]/gi, '-')}`;
  const clock = serverClock(client);
  const browser = device.userAgent ? describeUserAgent(device.userAgent) : device.name;
  const name = device.name || browser || 'A browser';
  const place = describePlace(device.network).label;
  const dismissButton = useRef<HTMLButtonElement>(null);
  // "Not you? Log it out" goes away once done: focus moves to what is left to press, not to the page.
  useEffect(() => {
    if (removal === 'removed' && client.isPrimary && (document.activeElement === null || document.activeElement === document.body)) {
      dismissButton.current?.focus();
    }
  }, [removal]);

  const logOut = async () => {
    feed.update({ ...alert, removal: 'removing' });
    try {
      await client.removeDevice(device.deviceId);
      feed.update({ ...alert, removal: 'removed' });
    } catch (error) {
      feed.update({ ...alert, removal: { failed: describeError(error) } });
    }
  };

  return (
    <section class="security-alert" role="alert" aria-labelledby={titleId}>
      <h2 id={titleId}>{removal === 'removed' ? 'Device logged out' : 'New device linked'}</h2>
      <p>
        <strong>{name}</strong>
        {browser !== name && ` (${browser})`} was linked to your account.
      </p>
      <p class="alert-facts">
        <span>{place}</span> · <time dateTime={new Date(clock.toLocal(device.linkedAt)).toISOString()}>{formatDateTime(clock.toLocal(device.linkedAt))}</time>
        {device.temporary && <span> · Temporary session</span>}
      </p>
      {removal === 'removed' ? (
        <p>{name} was logged out. It can no longer read or send your messages.</p>
      ) : client.isPrimary ? (
        <p>If this was not you, log it out now: until then it can read and send your messages.</p>
      ) : (
        <p>If this was not you, open Pairwise on your phone, go to Linked devices and log it out.</p>
      )}
      {typeof removal === 'object' && <p class="error">It could not be logged out: {removal.failed}</p>}
      <div class="actions">
        {client.isPrimary && removal !== 'removed' && (
          <button type="button" class="button danger" onClick={() => void logOut()} disabled={removal === 'removing'} aria-busy={removal === 'removing'}>
            Not you? Log it out
          </button>
        )}
        <button ref={dismissButton} type="button" class="button" onClick={() => feed.dismiss(alert.key)} disabled={removal === 'removing'}>
          Dismiss
        </button>
      </div>
    </section>
  );
}

type PinLockedAlert = Extract<SecurityAlert, { kind: 'pin-locked' }>;

function LockedAlert({ alert, session, feed }: { readonly alert: PinLockedAlert; readonly session: Session; readonly feed: AlertFeed }) {
  const { client } = session;
  const clock = serverClock(client);
  const titleId = `alert-${alert.key.replace(/[^a-z0-9]/gi, '-')}`;
  const until = alert.lockedUntil > 0 ? formatUntil(clock.toLocal(alert.lockedUntil)) : 'an hour from now';
  return (
    <section class="security-alert" role="alert" aria-labelledby={titleId}>
      <h2 id={titleId}>Linking locked</h2>
      <p>Someone entered a wrong two-step PIN 10 times. Linking is locked until {until}.</p>
      <p>
        {client.isPrimary
          ? 'If it was not you, someone has had this phone in hand: keep it with you, and change your PIN once linking is unlocked.'
          : 'PINs are entered on your phone: if it was not you, someone has had your phone in hand.'}
      </p>
      <div class="actions">
        <button type="button" class="button" onClick={() => feed.dismiss(alert.key)}>
          Dismiss
        </button>
      </div>
    </section>
  );
}
