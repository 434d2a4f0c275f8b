import type { DeviceSummary, PairwiseClient } from '@pairwise/client/pairwise-client';
import { describe, expect, it } from 'vitest';
import { AlertFeed } from './alert-feed.js';

/** Just enough of a client to emit its events. */
function fakeClient() {
  const listeners = new Map<string, Set<(value: unknown) => void>>();
  const client = {
    accountId: 'alice',
    on(event: string, listener: (value: unknown) => void) {
      const set = listeners.get(event) ?? new Set();
      set.add(listener);
      listeners.set(event, set);
      return () => set.delete(listener);
    },
  };
  const emit = (event: string, value: unknown) => {
    for (const listener of listeners.get(event) ?? []) listener(value);
  };
  return { client: client as unknown as PairwiseClient, emit };
}

const device: DeviceSummary = {
  deviceId: 'd2',
  kind: 'companion',
  name: 'Chrome on Linux',
  linkedAt: 1000,
  lastActiveAt: 1000,
  online: true,
  temporary: false,
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/139.0.0.0',
  network: '203.0.113.0/24',
  isThisDevice: false,
};

const security = { pinLockedUntil: 5000 };

describe('AlertFeed', () => {
  it('[ALERT-1] keeps one "New device linked" alert per new device, from the moment it exists', () => {
    const { client, emit } = fakeClient();
    const feed = new AlertFeed(client);
    let changes = 0;
    feed.subscribe(() => changes++);
    emit('device-linked', device);
    emit('device-linked', device);
    emit('device-linked', { ...device, deviceId: 'd3' });
    expect(feed.list().map((alert) => alert.key)).toEqual(['linked:d2', 'linked:d3']);
    expect(changes).toBe(2);
  });

  it('an alert can be updated (logged out) and dismissed', () => {
    const { client, emit } = fakeClient();
    const feed = new AlertFeed(client);
    emit('device-linked', device);
    const [alert] = feed.list();
    if (alert?.kind !== 'device-linked') throw new Error('expected a device-linked alert');
    feed.update({ ...alert, removal: 'removed' });
    expect(feed.list()).toEqual([{ ...alert, removal: 'removed' }]);
    feed.dismiss(alert.key);
    expect(feed.list()).toEqual([]);
  });

  it('an alert whose device was logged out some other way says it is gone', () => {
    const { client, emit } = fakeClient();
    const feed = new AlertFeed(client);
    emit('device-linked', device);
    emit('devices-changed', { accountId: 'bob', added: [], removed: ['d2'] });
    expect(feed.list()[0]).toMatchObject({ removal: 'idle' });
    emit('devices-changed', { accountId: 'alice', added: [], removed: ['d2'] });
    expect(feed.list()[0]).toMatchObject({ removal: 'removed' });
  });

  it('[UI-2] "pin-locked" raises one lock alert per lock; other security reports raise none', () => {
    const { client, emit } = fakeClient();
    const feed = new AlertFeed(client);
    emit('security', { security, alert: null });
    expect(feed.list()).toEqual([]);
    emit('security', { security, alert: 'pin-locked' });
    emit('security', { security, alert: 'pin-locked' });
    expect(feed.list()).toEqual([{ kind: 'pin-locked', key: 'locked:5000', lockedUntil: 5000 }]);
  });

  it('a listener that unsubscribed hears nothing more', () => {
    const { client, emit } = fakeClient();
    const feed = new AlertFeed(client);
    let changes = 0;
    const off = feed.subscribe(() => changes++);
    off();
    emit('device-linked', device);
    expect(changes).toBe(0);
  });
});
