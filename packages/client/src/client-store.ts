/**
 * Where a client keeps its state: identity and prekeys, sessions, pinned contact keys, message
 * history and the outbox. One small key-value interface, so the same SDK runs on IndexedDB in the
 * browser and on memory or files in Node.
 *
 * Values are structured-cloneable: plain objects and arrays, strings, numbers, booleans, null,
 * `Uint8Array` and `CryptoKey`. A store keeps what it is given by value: mutating an object after
 * `put`, or one returned by `get`, changes nothing stored.
 * @module
 */

import type { DeviceLock, DeviceLockOptions } from './device-lock.js';

/** The tables a client store holds. */
export const StoreTable = {
  /** This device: account id, device id, role, identity keys (one record, key "self"). */
  Identity: 'identity',
  /** Private prekeys by id ("signed:1", "pq:1", "one-time:17") and id counters. */
  PreKeys: 'prekeys',
  /** One Double Ratchet session per peer device, by "accountId/deviceId". */
  Sessions: 'sessions',
  /** Pinned account keys and last verified device lists, by account id. */
  Contacts: 'contacts',
  /** Message history, by "chatId/timestamp/messageId" so a prefix lists one chat in order. */
  Messages: 'messages',
  /** Messages accepted locally but not yet acknowledged by the server, by client message id. */
  Outbox: 'outbox',
  /** Ids of messages already received, to drop replays, by "senderDeviceId/clientMessageId". */
  Seen: 'seen',
  /** Anything else small: settings, the last server sequence seen. */
  Meta: 'meta',
} as const;
/** One of `StoreTable`. */
export type StoreTable = (typeof StoreTable)[keyof typeof StoreTable];

/** Every table, for stores that create them up front. */
export const STORE_TABLES: readonly StoreTable[] = Object.values(StoreTable);

/** A client's persistent (or, for temporary sessions, in-memory) state. */
export interface ClientStore {
  /**
   * Whether private keys must be extractable for this store to persist them. True only for a
   * store that serialises to bytes (the Node file store); IndexedDB and memory keep CryptoKeys
   * as they are, so keys stay non-extractable there.
   */
  readonly needsExtractableKeys: boolean;
  /** The value under `key`, or `undefined`. */
  get<T>(table: StoreTable, key: string): Promise<T | undefined>;
  /** Stores `value` under `key`, replacing what was there; other kinds of value are a `TypeError`. */
  put<T>(table: StoreTable, key: string, value: T): Promise<void>;
  /** Removes `key`; removing a missing key is not an error. */
  delete(table: StoreTable, key: string): Promise<void>;
  /**
   * Every entry whose key starts with `prefix` (all when omitted), in ascending key order
   * (by UTF-16 code units, as IndexedDB compares strings; not locale order).
   */
  list<T>(table: StoreTable, prefix?: string): Promise<[string, T][]>;
  /**
   * Deletes everything this store holds, including its backing database or files (log out). The
   * store is closed afterwards; opening it again gives an empty store.
   */
  wipe(): Promise<void>;
  /** Releases resources; the store is not used afterwards. */
  close(): Promise<void>;
  /**
   * Takes the device lock a client holds for its whole life, so that only one client works on
   * this state at a time (SPEC DEVICE-1). Rejects with `DeviceInUseError` while another client
   * holds it; with `takeOver`, where the holder can be asked to let go (browser tabs, clients of
   * one process), asks it and resolves once it has.
   */
  acquireDeviceLock(options?: DeviceLockOptions): Promise<DeviceLock>;
}
