/**
 * "New device linked" on every device of the account (SPEC ALERT-1). The device list this
 * device last saw is kept in the store; whenever the account's devices may have changed (a
 * notice, or a new connection after being offline), the current list is compared with it and
 * each companion that appeared is announced once. The first look only records the list: a device
 * is not alerted about the devices that were there before it.
 * @module
 */
import { StoreTable, type ClientStore } from './client-store.js';

/** Where the ids of the devices seen last are kept. */
const KNOWN_DEVICES_KEY = 'known-devices';

/** What the watch needs of a device summary. */
export interface WatchedDevice {
  readonly deviceId: string;
  readonly kind: 'primary' | 'companion';
  readonly isThisDevice: boolean;
}

/** Compares the account's devices with those seen last; one check runs at a time. */
export class NewDeviceWatch<D extends WatchedDevice> {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly store: ClientStore,
    private readonly listDevices: () => Promise<D[]>,
    private readonly announce: (device: D) => void,
  ) {}

  /** Looks again (coalescing calls made while a look is running). Never throws. */
  check(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.look();
        } catch {
          // Offline, or the store is gone (logged out): the next notice or connection looks again.
        }
      } while (this.again);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async look(): Promise<void> {
    const devices = await this.listDevices();
    const known = await this.store.get<string[]>(StoreTable.Meta, KNOWN_DEVICES_KEY);
    if (known !== undefined) {
      const seen = new Set(known);
      for (const device of devices) {
        if (!seen.has(device.deviceId) && device.kind === 'companion' && !device.isThisDevice) this.announce(device);
      }
    }
    await this.store.put(StoreTable.Meta, KNOWN_DEVICES_KEY, devices.map((device) => device.deviceId));
  }
}
