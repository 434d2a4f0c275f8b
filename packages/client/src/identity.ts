/**
 * This device's identity as the store keeps it.
 * @module
 */
import type { AccountIdentity, DeviceIdentity } from '@pairwise/crypto/keys';
import { StoreTable, type ClientStore } from './client-store.js';

/** Everything a device needs to come back after a restart. */
export interface StoredIdentity {
  readonly version: 1;
  /** The server's public origin; device signatures and link codes are bound to it. */
  readonly origin: string;
  readonly accountId: string;
  readonly deviceId: string;
  readonly kind: 'primary' | 'companion';
  readonly device: DeviceIdentity;
  /** The account identity key pair: held by the primary only. */
  readonly account: AccountIdentity | null;
  /** The account's public identity key. */
  readonly accountKey: Uint8Array;
}

const SELF = 'self';

/** The stored identity, or `null` for a store that holds no device. */
export async function loadIdentity(store: ClientStore): Promise<StoredIdentity | null> {
  const identity = await store.get<StoredIdentity>(StoreTable.Identity, SELF);
  return identity?.version === 1 ? identity : null;
}

export async function saveIdentity(store: ClientStore, identity: StoredIdentity): Promise<void> {
  await store.put(StoreTable.Identity, SELF, identity);
}
