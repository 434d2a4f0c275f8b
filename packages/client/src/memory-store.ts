/**
 * A `ClientStore` that lives in memory only: for temporary sessions (a shared computer, nothing
 * may stay behind) and for tests. Closing or wiping it drops everything.
 * @module
 */
import { STORE_TABLES, type ClientStore, type StoreTable } from './client-store.js';
import { InProcessLocks, type DeviceLock, type DeviceLockOptions } from './device-lock.js';
import { compareKeys } from './key-order.js';
import { structuredCloneValue } from './platform.js';
import { assertKey, assertPrefix, assertStorableValue, assertTable } from './store-arguments.js';
import { StoreClosedError } from './store-errors.js';

/**
 * An in-memory `ClientStore`. Values are copied with `structuredClone` on the way in and on the
 * way out, so it keeps them by value exactly as IndexedDB does, `CryptoKey`s included (they stay
 * non-extractable).
 *
 * @example
 * ```ts
 * const store = new MemoryStore();
 * await store.put(StoreTable.Meta, 'lastSequence', 42);
 * await store.get<number>(StoreTable.Meta, 'lastSequence'); // 42
 * ```
 */
/** Device locks of memory stores: one per store object. */
const memoryLocks = new InProcessLocks<MemoryStore>();

export class MemoryStore implements ClientStore {
  /** Memory keeps `CryptoKey`s as they are. */
  readonly needsExtractableKeys = false;

  // Maps, not plain objects, so that a key such as "__proto__" is an ordinary key.
  private tables: Map<StoreTable, Map<string, unknown>> | null = new Map(
    STORE_TABLES.map((table) => [table, new Map<string, unknown>()]),
  );

  /** {@inheritDoc ClientStore.get} */
  get<T>(table: StoreTable, key: string): Promise<T | undefined> {
    return this.run(() => {
      assertKey(key);
      const value = this.table(table).get(key);
      return value === undefined ? undefined : structuredCloneValue(value as T);
    });
  }

  /** {@inheritDoc ClientStore.put} */
  put<T>(table: StoreTable, key: string, value: T): Promise<void> {
    return this.run(() => {
      const entries = this.table(table);
      assertKey(key);
      assertStorableValue(table, key, value);
      entries.set(key, structuredCloneValue(value));
    });
  }

  /** {@inheritDoc ClientStore.delete} */
  delete(table: StoreTable, key: string): Promise<void> {
    return this.run(() => {
      assertKey(key);
      this.table(table).delete(key);
    });
  }

  /** {@inheritDoc ClientStore.list} */
  list<T>(table: StoreTable, prefix?: string): Promise<[string, T][]> {
    return this.run(() => {
      assertPrefix(prefix);
      const start = prefix ?? '';
      const found: [string, T][] = [];
      for (const [key, value] of this.table(table)) {
        if (key.startsWith(start)) found.push([key, structuredCloneValue(value as T)]);
      }
      return found.sort(([a], [b]) => compareKeys(a, b));
    });
  }

  /** {@inheritDoc ClientStore.acquireDeviceLock} */
  acquireDeviceLock(options?: DeviceLockOptions): Promise<DeviceLock> {
    return memoryLocks.acquire(this, options);
  }

  /** Drops everything; the store is closed afterwards. */
  wipe(): Promise<void> {
    return this.run(() => {
      this.assertOpen();
      this.tables = null;
    });
  }

  /** Drops everything (nothing in memory outlives it); the store is closed afterwards. Closing twice is fine. */
  close(): Promise<void> {
    this.tables = null;
    return Promise.resolve();
  }

  private table(table: StoreTable): Map<string, unknown> {
    const tables = this.assertOpen();
    assertTable(table);
    const entries = tables.get(table);
    if (entries === undefined) throw new Error(`memory store has no table ${table}`);
    return entries;
  }

  private assertOpen(): Map<StoreTable, Map<string, unknown>> {
    if (this.tables === null) throw new StoreClosedError('the memory store was closed or wiped');
    return this.tables;
  }

  // Every method answers through a promise, errors included, as the persistent stores do: a
  // caller that forgot to await sees the same behaviour everywhere.
  private run<R>(operation: () => R): Promise<R> {
    try {
      return Promise.resolve(operation());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
