/**
 * A `ClientStore` on IndexedDB, for the web app and companions in the browser.
 *
 * One database per account on the device (`pairwise-<name>`), one object store per table, string
 * keys. Values go in by structured clone, so `CryptoKey`s are stored as the platform objects they
 * are and stay non-extractable: script can use them while it runs but cannot read their bytes
 * (SPEC CRYPTO-2).
 * @module
 */
import { STORE_TABLES, type ClientStore, type StoreTable } from '../client-store.js';
import type { DeviceLock, DeviceLockOptions } from '../device-lock.js';
import { prefixUpperBound } from '../key-order.js';
import { assertKey, assertPrefix, assertStorableValue, assertTable } from '../store-arguments.js';
import { StoreClosedError } from '../store-errors.js';
import { acquireTabLock } from './tab-lock.js';

/** Raise it, and create the missing object stores in `upgrade`, when a table is added. */
const DATABASE_VERSION = 1;

/**
 * Writes are committed with `strict` durability (flushed to disk before the transaction
 * completes): a ratchet state that is reported saved but lost in a power cut would desynchronise
 * the session. Chromium's default is `relaxed`.
 */
const WRITE_OPTIONS: IDBTransactionOptions = { durability: 'strict' };

/**
 * A `ClientStore` in an IndexedDB database.
 *
 * @example
 * ```ts
 * const store = await IndexedDbStore.open(accountId);
 * await store.put(StoreTable.Identity, 'self', identity); // keys stay non-extractable
 * ```
 */
export class IndexedDbStore implements ClientStore {
  /** IndexedDB keeps `CryptoKey`s as they are. */
  readonly needsExtractableKeys = false;

  private closed = false;

  private constructor(
    private readonly database: IDBDatabase,
    private readonly databaseName: string,
  ) {
    // Another tab wiping (deleting) or upgrading the database first asks every open connection to
    // close. We do, rather than block it: a log-out elsewhere must win over this tab.
    database.onversionchange = () => {
      this.closed = true;
      database.close();
    };
    // The browser closed it (the user cleared site data, say).
    database.onclose = () => {
      this.closed = true;
    };
  }

  /** Opens (creating if needed) the database `pairwise-${name}`. */
  static async open(name: string): Promise<IndexedDbStore> {
    if (typeof name !== 'string' || name === '') throw new TypeError('name must be a non-empty string');
    const databaseName = `pairwise-${name}`;
    const request = indexedDB.open(databaseName, DATABASE_VERSION);
    request.onupgradeneeded = () => upgrade(request.result);
    // No onblocked: a blocked open waits until an older connection closes (they close themselves
    // on versionchange, above), which is what we want.
    return new IndexedDbStore(await requestResult(request), databaseName);
  }

  /** {@inheritDoc ClientStore.get} */
  async get<T>(table: StoreTable, key: string): Promise<T | undefined> {
    assertKey(key);
    const store = this.transaction(table, 'readonly').objectStore(table);
    return (await requestResult(store.get(key))) as T | undefined;
  }

  /** {@inheritDoc ClientStore.put} */
  async put<T>(table: StoreTable, key: string, value: T): Promise<void> {
    assertTable(table);
    assertKey(key);
    assertStorableValue(table, key, value);
    const transaction = this.transaction(table, 'readwrite');
    // put() clones the value now, before this method returns: later changes by the caller are not seen.
    transaction.objectStore(table).put(value, key);
    await transactionDone(transaction);
  }

  /** {@inheritDoc ClientStore.delete} */
  async delete(table: StoreTable, key: string): Promise<void> {
    assertKey(key);
    const transaction = this.transaction(table, 'readwrite');
    transaction.objectStore(table).delete(key);
    await transactionDone(transaction);
  }

  /** {@inheritDoc ClientStore.list} */
  async list<T>(table: StoreTable, prefix?: string): Promise<[string, T][]> {
    assertPrefix(prefix);
    const store = this.transaction(table, 'readonly').objectStore(table);
    const range = prefixRange(prefix ?? '');
    // Two requests in one transaction see the same snapshot, so keys and values line up.
    const [keys, values] = await Promise.all([
      requestResult(store.getAllKeys(range)),
      requestResult(store.getAll(range)),
    ]);
    return keys.map((key, index): [string, T] => [key as string, values[index] as T]);
  }

  /**
   * {@inheritDoc ClientStore.acquireDeviceLock}
   *
   * A Web Lock shared by every tab of this site (dom/tab-lock.ts): a second tab is refused, or with
   * `takeOver` asks the holding tab to let go ("Use here").
   */
  acquireDeviceLock(options?: DeviceLockOptions): Promise<DeviceLock> {
    return acquireTabLock(`${this.databaseName}/device`, options);
  }

  /**
   * Closes the connection and deletes the database, resolving once it is gone; the store is
   * closed afterwards. Other tabs' connections are asked to close (see the constructor); if one
   * does not, deletion waits for it.
   */
  async wipe(): Promise<void> {
    this.assertOpen();
    this.closed = true;
    // Our own connection would block the deletion; close() lets running transactions finish.
    this.database.close();
    await new Promise<void>((resolve, reject) => {
      const request = indexedDB.deleteDatabase(this.databaseName);
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error ?? new Error(`cannot delete ${this.databaseName}`));
      // onblocked: another connection is still open; the request stays pending until it closes.
    });
  }

  /** Closes the connection once running transactions finish; the store is closed afterwards. Closing twice is fine. */
  close(): Promise<void> {
    this.closed = true;
    this.database.close();
    return Promise.resolve();
  }

  private transaction(table: StoreTable, mode: IDBTransactionMode): IDBTransaction {
    this.assertOpen();
    assertTable(table);
    return mode === 'readwrite'
      ? this.database.transaction(table, mode, WRITE_OPTIONS)
      : this.database.transaction(table, mode);
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError(`the IndexedDB store ${this.databaseName} was closed or wiped`);
  }
}

function upgrade(database: IDBDatabase): void {
  for (const table of STORE_TABLES) {
    // Out-of-line string keys: the key is the put() argument, not a member of the value.
    if (!database.objectStoreNames.contains(table)) database.createObjectStore(table);
  }
}

/** Keys starting with `prefix`: [prefix, prefixUpperBound(prefix)), or every key for "". */
function prefixRange(prefix: string): IDBKeyRange | null {
  if (prefix === '') return null;
  const upper = prefixUpperBound(prefix);
  return upper === null ? IDBKeyRange.lowerBound(prefix) : IDBKeyRange.bound(prefix, upper, false, true);
}

function requestResult<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
  });
}

function transactionDone(transaction: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error ?? new Error('IndexedDB transaction failed'));
    transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB transaction aborted'));
  });
}
