// One live client per device in the browser (SPEC DEVICE-1), in Chromium: two stores of one
// database stand for two tabs (Web Locks and BroadcastChannel are per origin, so they behave as
// across tabs). Two clients cannot both run; a take-over moves the device.
import { describe, expect, it } from 'vitest';
import { DeviceInUseError } from '../device-lock.js';
import { PairwiseClient } from '../pairwise-client.js';
import { FakeServer } from '../test-support/fake-server.js';
import { IndexedDbStore } from './indexeddb-store.js';

describe('[DEVICE-1] the browser: one tab at a time', () => {
  it('a second tab is refused the device lock; asked to take over, the first hears it and the second gets it once it lets go', async () => {
    const tabA = await IndexedDbStore.open('lock-tabs');
    const tabB = await IndexedDbStore.open('lock-tabs');
    const first = await tabA.acquireDeviceLock();
    await expect(tabB.acquireDeviceLock()).rejects.toBeInstanceOf(DeviceInUseError);
    let granted = false;
    const second = tabB.acquireDeviceLock({ takeOver: true }).then((lock) => {
      granted = true;
      return lock;
    });
    await first.takeOverRequested;
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Not stolen: the holder lets go first.
    expect(granted).toBe(false);
    await first.release();
    const held = await second;
    expect(granted).toBe(true);
    await expect(tabA.acquireDeviceLock()).rejects.toBeInstanceOf(DeviceInUseError);
    await held.release();
    await tabA.wipe();
  });

  it('two clients on one IndexedDB store cannot both run; "Use here" stops the first and keeps its data', async () => {
    const server = new FakeServer();
    const tabA = await IndexedDbStore.open('lock-clients');
    const options = { origin: 'https://chat.example.org', url: 'ws://fake/ws', socketFactory: server.socketFactory, now: server.now };
    const first = await PairwiseClient.createAccount({ ...options, store: tabA, username: 'alice' });
    await first.ready();
    const tabB = await IndexedDbStore.open('lock-clients');
    await expect(PairwiseClient.open({ ...options, store: tabB })).rejects.toBeInstanceOf(DeviceInUseError);
    const movedAway = first.once('taken-over');
    const second = await PairwiseClient.open({ ...options, store: tabB, takeOver: true });
    await movedAway;
    expect(second?.accountId).toBe('alice');
    await second!.ready();
    // The first tab is stopped, and its store (the same database) still holds the device.
    await expect(first.sendText('bob', 'from the stopped tab')).rejects.toThrow();
    expect((await PairwiseClient.open({ ...options, store: tabA, takeOver: true }))?.deviceId).toBe(first.deviceId);
    await tabA.wipe();
  });
});
