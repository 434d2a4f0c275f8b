/**
 * The alerts a device must show until the user dismisses them (SPEC ALERT-1, PIN-3): "New device
 * linked" and "Linking locked". The feed listens from the moment the client exists, so that an
 * alert the SDK raises at the first connection (a device linked while this one was closed) is
 * kept even though no screen is up yet.
 * @module
 */
import type { DeviceSummary, PairwiseClient } from '@pairwise/client/pairwise-client';

/** An alert on screen. */
export type SecurityAlert =
  | {
      readonly kind: 'device-linked';
      readonly key: string;
      readonly device: DeviceSummary;
      /** On the phone, after "Not you? Log it out". */
      readonly removal: 'idle' | 'removing' | 'removed' | { readonly failed: string };
    }
  | { readonly kind: 'pin-locked'; readonly key: string; readonly lockedUntil: number };

/** The alerts of one device, with change notifications for the screens. */
export class AlertFeed {
  private alerts: readonly SecurityAlert[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(client: PairwiseClient) {
    client.on('device-linked', (device) => {
      const key = `linked:${device.deviceId}`;
      if (this.alerts.some((alert) => alert.key === key)) return;
      this.set([...this.alerts, { kind: 'device-linked', key, device, removal: 'idle' }]);
    });
    // A device logged out some other way (the list, expiry, its own log out) is said to be gone,
    // rather than offering to log out what no longer exists.
    client.on('devices-changed', ({ accountId, removed }) => {
      if (accountId !== client.accountId || removed.length === 0) return;
      const gone = new Set(removed);
      if (!this.alerts.some((alert) => alert.kind === 'device-linked' && gone.has(alert.device.deviceId))) return;
      this.set(this.alerts.map((alert) => (alert.kind === 'device-linked' && gone.has(alert.device.deviceId) ? { ...alert, removal: 'removed' } : alert)));
    });
    client.on('security', ({ security, alert }) => {
      if (alert !== 'pin-locked') return;
      const key = `locked:${security.pinLockedUntil}`;
      if (this.alerts.some((existing) => existing.key === key)) return;
      this.set([...this.alerts, { kind: 'pin-locked', key, lockedUntil: security.pinLockedUntil }]);
    });
  }

  /** The alerts to show, oldest first. */
  list(): readonly SecurityAlert[] {
    return this.alerts;
  }

  /** Replaces the alert with the same key (e.g. to show that its device was logged out). */
  update(next: SecurityAlert): void {
    this.set(this.alerts.map((alert) => (alert.key === next.key ? next : alert)));
  }

  /** Hides an alert for good. */
  dismiss(key: string): void {
    this.set(this.alerts.filter((alert) => alert.key !== key));
  }

  /** Calls `listener` after every change; returns the function that stops it. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private set(alerts: readonly SecurityAlert[]): void {
    this.alerts = alerts;
    for (const listener of [...this.listeners]) listener();
  }
}
