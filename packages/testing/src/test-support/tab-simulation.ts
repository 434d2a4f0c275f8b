/**
 * Browser tabs and crashes in one test process, for the one-client-per-device tests (SPEC
 * DEVICE-1). A "tab" is a PairwiseClient over a view of one shared store, with its own sockets.
 * Killing a tab does what closing a tab or killing a process does: from that instant it writes
 * nothing more, sends and hears nothing more, and the device lock it held is free (the browser or
 * the system releases it). The JavaScript still running in it can no longer reach anything.
 * @module
 */
import type { ClientStore, StoreTable } from '@pairwise/client/client-store';
import type { DeviceLock, DeviceLockOptions } from '@pairwise/client/device-lock';
import { nodeSocketFactory } from '@pairwise/client/node/ws-socket';
import type { SocketFactory, SocketLike } from '@pairwise/client/socket';

/** A store view and a socket factory that one `kill()` cuts off. */
export class Tab {
  private killed = false;
  private readonly sockets = new Set<SocketLike>();
  private lock: DeviceLock | null = null;

  constructor(private readonly shared: ClientStore) {}

  /** The tab's view of the shared store. */
  readonly store: ClientStore = {
    get needsExtractableKeys() {
      return false;
    },
    get: <T>(table: StoreTable, key: string) => this.alive(() => this.shared.get<T>(table, key)),
    put: <T>(table: StoreTable, key: string, value: T) => this.alive(() => this.shared.put(table, key, value)),
    delete: (table: StoreTable, key: string) => this.alive(() => this.shared.delete(table, key)),
    list: <T>(table: StoreTable, prefix?: string) => this.alive(() => this.shared.list<T>(table, prefix)),
    wipe: () => this.alive(() => this.shared.wipe()),
    close: () => Promise.resolve(),
    acquireDeviceLock: async (options?: DeviceLockOptions) => {
      const lock = await this.shared.acquireDeviceLock(options);
      this.lock = lock;
      return lock;
    },
  };

  /** The tab's sockets: real WebSockets, silenced when the tab is killed. */
  readonly socketFactory: SocketFactory = (url) => {
    const socket = nodeSocketFactory(url);
    this.sockets.add(socket);
    const send = socket.send.bind(socket);
    socket.send = (data) => {
      if (!this.killed) send(data);
    };
    return new Proxy(socket, {
      set: (target, property, value: unknown) => {
        // Handlers run only while the tab lives: a dead tab hears nothing.
        if (property === 'onmessage' && typeof value === 'function') {
          const handler = value as (event: { data: unknown }) => void;
          return Reflect.set(target, property, (event: { data: unknown }) => {
            if (!this.killed) handler(event);
          });
        }
        return Reflect.set(target, property, value);
      },
    });
  };

  get isKilled(): boolean {
    return this.killed;
  }

  /** The tab is gone, mid-whatever it was doing. */
  async kill(): Promise<void> {
    this.killed = true;
    for (const socket of this.sockets) socket.close(1001, 'tab closed');
    await this.lock?.release();
  }

  /** A dead tab's store calls never settle: no line after them runs, as after a real crash. */
  private alive<R>(operation: () => Promise<R>): Promise<R> {
    if (this.killed) return new Promise<R>(() => {});
    return operation();
  }
}
