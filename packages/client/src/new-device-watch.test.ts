import { describe, expect, it } from 'vitest';
import { MemoryStore } from './memory-store.js';
import { NewDeviceWatch, type WatchedDevice } from './new-device-watch.js';

const primary: WatchedDevice = { deviceId: 'p', kind: 'primary', isThisDevice: false };
const self: WatchedDevice = { deviceId: 'me', kind: 'companion', isThisDevice: true };
const companion = (deviceId: string): WatchedDevice => ({ deviceId, kind: 'companion', isThisDevice: false });

function setUp(initial: WatchedDevice[]) {
  let devices = initial;
  const announced: string[] = [];
  const store = new MemoryStore();
  const watch = new NewDeviceWatch(store, () => Promise.resolve(devices), (device) => announced.push(device.deviceId));
  return { store, watch, announced, setDevices: (next: WatchedDevice[]) => (devices = next) };
}

describe('NewDeviceWatch', () => {
  it('[ALERT-1] the first look records the devices already there without announcing them', async () => {
    const { watch, announced } = setUp([primary, self, companion('a')]);
    await watch.check();
    expect(announced).toEqual([]);
  });

  it('[ALERT-1] a companion that appears is announced once, never this device or a primary', async () => {
    const { watch, announced, setDevices } = setUp([primary, self]);
    await watch.check();
    setDevices([primary, self, companion('b'), { deviceId: 'p2', kind: 'primary', isThisDevice: false }]);
    await watch.check();
    await watch.check();
    expect(announced).toEqual(['b']);
  });

  it('[ALERT-1] a device linked while this one was away is announced by the next look, from the stored list', async () => {
    const first = setUp([primary, self]);
    await first.watch.check();
    // Same store, a new watch: the app restarted.
    const restarted = new NewDeviceWatch(first.store, () => Promise.resolve([primary, self, companion('c')]), (device) =>
      first.announced.push(device.deviceId),
    );
    await restarted.check();
    expect(first.announced).toEqual(['c']);
  });

  it('a failing look announces nothing, throws nothing and is retried by the next check', async () => {
    const store = new MemoryStore();
    let fail = true;
    const announced: string[] = [];
    let devices = [primary, self];
    const watch = new NewDeviceWatch(
      store,
      () => (fail ? Promise.reject(new Error('offline')) : Promise.resolve(devices)),
      (device) => announced.push(device.deviceId),
    );
    await expect(watch.check()).resolves.toBeUndefined();
    fail = false;
    await watch.check();
    devices = [primary, self, companion('d')];
    await watch.check();
    expect(announced).toEqual(['d']);
  });

  it('checks asked for while one runs are coalesced into one more look', async () => {
    let looks = 0;
    const watch = new NewDeviceWatch(new MemoryStore(), () => {
      looks += 1;
      return Promise.resolve([primary]);
    }, () => {});
    await Promise.all([watch.check(), watch.check(), watch.check()]);
    expect(looks).toBe(2);
  });
});
