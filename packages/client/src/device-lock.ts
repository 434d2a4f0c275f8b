/**
 * One live client per device (SPEC DEVICE-1).
 *
 * A device's state holds ratchets: two clients working on it at once (two browser tabs, two
 * processes on one directory) would each encrypt with the same chain key, sending two messages
 * under one AES-GCM key and nonce, and hand out the same one-time prekey ids. So a client holds
 * its store's device lock for its whole life, and a second one is refused (`DeviceInUseError`)
 * or, where the platform can ask the holder to let go (browser tabs, "Use here"), waits until the
 * holder has stopped and released it.
 *
 * Releasing is the holder's last act: it first stops its connection and waits for the work in
 * flight, and from then on its view of the store refuses writes (`fenced`), so nothing it does
 * late can reach state the next holder has already read.
 * @module
 */
import type { ClientStore, StoreTable } from './client-store.js';
import { StoreClosedError } from './store-errors.js';

/** A held device lock. */
export interface DeviceLock {
  /** Settles when another client asks for the device ("Use here" in another tab). Never rejects. */
  readonly takeOverRequested: Promise<void>;
  /** Lets the device go; a client waiting to take over gets it. Calling it again does nothing. */
  release(): Promise<void>;
}

/** How to ask for a device lock. */
export interface DeviceLockOptions {
  /**
   * Ask the holder to let go and wait until it has, instead of refusing at once. Only where the
   * holder can be asked (browser tabs, clients in one process); elsewhere it is refused as usual.
   */
  readonly takeOver?: boolean;
}

/** Another client is using this device: in a browser, another tab of this site. */
export class DeviceInUseError extends Error {
  override readonly name = 'DeviceInUseError';
}

interface Holder {
  readonly requestTakeOver: () => void;
  readonly released: Promise<void>;
}

/**
 * Device locks among clients of one JavaScript process, keyed by whatever identifies the store
 * (a memory store object, a file store's directory). A take-over asks the holder and waits.
 */
export class InProcessLocks<K> {
  private readonly holders = new Map<K, Holder>();

  async acquire(key: K, options: DeviceLockOptions = {}): Promise<DeviceLock> {
    for (;;) {
      const holder = this.holders.get(key);
      if (holder === undefined) return this.grant(key);
      if (options.takeOver !== true) throw new DeviceInUseError('another client is using this device');
      holder.requestTakeOver();
      await holder.released;
    }
  }

  private grant(key: K): DeviceLock {
    let requestTakeOver!: () => void;
    const takeOverRequested = new Promise<void>((resolve) => (requestTakeOver = resolve));
    let markReleased!: () => void;
    const released = new Promise<void>((resolve) => (markReleased = resolve));
    const holder: Holder = { requestTakeOver, released };
    this.holders.set(key, holder);
    return {
      takeOverRequested,
      release: () => {
        if (this.holders.get(key) === holder) this.holders.delete(key);
        markReleased();
        return Promise.resolve();
      },
    };
  }
}

/**
 * `store` as a client holding `lock` sees it: once `isHeld()` is false every call is refused with
 * `StoreClosedError`, so that work still running in a released client writes nothing.
 */
export function fenced(store: ClientStore, isHeld: () => boolean): ClientStore {
  const check = (): void => {
    if (!isHeld()) throw new StoreClosedError('this client let the device go');
  };
  const guard = <R>(operation: () => Promise<R>): Promise<R> => {
    try {
      check();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return operation();
  };
  return {
    get needsExtractableKeys() {
      return store.needsExtractableKeys;
    },
    get: <T>(table: StoreTable, key: string) => guard(() => store.get<T>(table, key)),
    put: <T>(table: StoreTable, key: string, value: T) => guard(() => store.put<T>(table, key, value)),
    delete: (table: StoreTable, key: string) => guard(() => store.delete(table, key)),
    list: <T>(table: StoreTable, prefix?: string) => guard(() => store.list<T>(table, prefix)),
    wipe: () => guard(() => store.wipe()),
    close: () => store.close(),
    acquireDeviceLock: (options?: DeviceLockOptions) => store.acquireDeviceLock(options),
  };
}
