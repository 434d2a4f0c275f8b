/**
 * The phone's list of every linked device: name, browser and system, coarse place, "Temporary"
 * for sessions that end with their tab, "Active now" or when last active, when linked, and a
 * one-click log out for each (SPEC DEVICES-*, TEMP-1). The list follows changes live.
 * @module
 */
import type { DeviceSummary } from '@pairwise/client/pairwise-client';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { formatAgo, formatDateTime } from '../platform/format.js';
import { describePlace } from '../platform/place.js';
import { describeUserAgent } from '../platform/user-agent.js';
import type { Session } from '../session.js';
import { SECURITY_LOG_PATH } from '../shell/settings.js';
import { describeError } from '../ui/describe-error.js';
import { ConfirmDialog } from '../ui/dialog.js';
import { Link } from '../ui/router.js';
import { Loading } from '../ui/spinner.js';

/** How often "last active" is refreshed while the list is open. */
const REFRESH_MS = 5_000;

/** Props of the list. */
export interface LinkedDevicesProps {
  readonly session: Session;
  /** Something to say at the top (e.g. "Chrome on Linux is linked."). */
  readonly flash: string | null;
  readonly onLinkDevice: () => void;
}

/** The linked devices screen. */
export function LinkedDevices({ session, flash, onLinkDevice }: LinkedDevicesProps) {
  const { client } = session;
  const [devices, setDevices] = useState<DeviceSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(flash);
  const [busy, setBusy] = useState<string | null>(null);
  const [confirmAll, setConfirmAll] = useState(false);

  const refresh = useCallback(async () => {
    try {
      setDevices(await client.devices());
      setError(null);
    } catch (failure) {
      setError(describeError(failure));
    }
  }, [client]);

  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), REFRESH_MS);
    const off = client.on('devices-changed', ({ accountId }) => {
      if (accountId === client.accountId) void refresh();
    });
    return () => {
      clearInterval(timer);
      off();
    };
  }, [client, refresh]);

  const logOut = async (device: DeviceSummary) => {
    setBusy(device.deviceId);
    setStatus(null);
    try {
      await client.removeDevice(device.deviceId);
      setStatus(`${device.name} was logged out.`);
    } catch (failure) {
      setStatus(`${device.name} could not be logged out: ${describeError(failure)}`);
    }
    setBusy(null);
    await refresh();
  };

  const logOutAll = async () => {
    setBusy('all');
    try {
      await client.removeAllCompanions();
      setStatus('Every linked device was logged out.');
    } catch (failure) {
      setStatus(`Not every device could be logged out: ${describeError(failure)}`);
    }
    setBusy(null);
    setConfirmAll(false);
    await refresh();
  };

  const companions = devices?.filter((device) => device.kind === 'companion') ?? [];
  const self = devices?.find((device) => device.isThisDevice) ?? null;
  const now = Date.now();

  return (
    <section class="page devices" aria-labelledby="devices-title">
      <header class="page-header">
        <h1 id="devices-title">Linked devices</h1>
        <button type="button" class="button primary" onClick={onLinkDevice}>
          Link a device
        </button>
      </header>
      <p class="lead">Linked computers show your chats and can send messages as you. Log out any you do not recognise.</p>
      <p class="notice" role="status">
        {status}
      </p>
      {error !== null && (
        <div class="error" role="alert">
          <p>The devices could not be loaded: {error}</p>
          <button type="button" class="button" onClick={() => void refresh()}>
            Try again
          </button>
        </div>
      )}
      {devices === null && error === null && <Loading label="Loading devices…" />}
      {devices !== null && (
        <>
          {self && (
            <div class="device this-device">
              <h2 class="device-name">{self.name}</h2>
              <p class="device-state">This phone · holds your account</p>
            </div>
          )}
          {companions.length === 0 ? (
            <div class="empty-state">
              <p>No computers are linked.</p>
              <p>Open Pairwise in a browser on your computer and choose “Link a device” here to scan its code.</p>
            </div>
          ) : (
            <ul class="device-list" aria-label="Linked devices">
              {companions.map((device) => (
                <li key={device.deviceId} class="device">
                  <div>
                    <h2 class="device-name">
                      {device.name}
                      {device.temporary && (
                        <>
                          {' '}
                          <span class="badge-label">Temporary</span>
                        </>
                      )}
                    </h2>
                    <p class="device-where">{whereAndWhat(device)}</p>
                    <p class="device-state">
                      {device.online ? (
                        <span class="online">Active now</span>
                      ) : device.lastActiveAt > 0 ? (
                        `Last active ${formatAgo(device.lastActiveAt, now)}`
                      ) : (
                        'Not active yet'
                      )}
                    </p>
                    <p class="device-linked">Linked {formatDateTime(device.linkedAt)}</p>
                  </div>
                  <button
                    type="button"
                    class="button danger"
                    onClick={() => void logOut(device)}
                    disabled={busy !== null}
                    aria-busy={busy === device.deviceId}
                  >
                    Log out <span class="visually-hidden">{device.name}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
          {companions.length > 0 && (
            <button type="button" class="button danger" onClick={() => setConfirmAll(true)} disabled={busy !== null}>
              Log out all devices
            </button>
          )}
        </>
      )}
      <p class="log-link">
        <Link to={SECURITY_LOG_PATH}>Security log</Link>: every link and log out, with when and where.
      </p>
      {confirmAll && (
        <ConfirmDialog
          title="Log out all devices?"
          confirmLabel="Log out all"
          busy={busy === 'all'}
          onConfirm={() => void logOutAll()}
          onCancel={() => setConfirmAll(false)}
        >
          <p>Every linked computer is logged out at once and deletes what it kept. This phone stays signed in.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

/** "Chrome on Linux · Local network" (the browser left out when the name already says it). */
function whereAndWhat(device: DeviceSummary): string {
  const browser = device.userAgent ? describeUserAgent(device.userAgent) : '';
  const place = describePlace(device.network).label;
  const parts = [browser !== '' && browser !== device.name ? browser : null, place, device.temporary ? 'Logged out when its tab closes' : null];
  return parts.filter((part) => part !== null).join(' · ');
}
