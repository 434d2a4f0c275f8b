/**
 * Building the next signed device list on the primary: the current verified devices, plus or
 * minus one, one version up (SPEC DEVICES-1).
 * @module
 */
import { signDeviceList, type DeviceListEntry, type SignedDeviceList } from '@pairwise/crypto/device-list';
import { DEVICE_LIST_VALIDITY_MS } from '@pairwise/protocol/limits';
import type { ContactRecord } from './contacts.js';
import type { StoredIdentity } from './identity.js';

/** Signs the list that follows `current` with `devices`; primary only. */
export async function signNextList(
  identity: StoredIdentity,
  current: ContactRecord,
  devices: readonly DeviceListEntry[],
  now: number,
): Promise<SignedDeviceList> {
  if (identity.account === null) throw new TypeError('only the primary device holds the account key');
  return signDeviceList(identity.account.privateKey, {
    accountId: identity.accountId,
    version: current.listVersion + 1,
    issuedAt: now,
    expiresAt: now + DEVICE_LIST_VALIDITY_MS,
    devices,
  });
}
