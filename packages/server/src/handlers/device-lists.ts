/**
 * The server's checks of signed device lists. The server stores a list only after verifying it
 * against the account key and checking that it names exactly the devices it will have (SPEC
 * DEVICES-1): a client that trusts the list can then trust the server's device set to be a subset.
 * @module
 */
import { bytesEqual } from '@pairwise/crypto/bytes';
import { verifyDeviceList, type DeviceList } from '@pairwise/crypto/device-list';
import { ProtocolError } from '@pairwise/protocol/errors';
import type { AccountRow, DeviceKind, SignedBodyRow } from '../store/store.js';

/** A device the list must name. */
export interface ExpectedDevice {
  readonly deviceId: string;
  readonly kind: DeviceKind;
  readonly signingKey: Uint8Array;
  readonly agreementKey: Uint8Array;
}

/**
 * Verifies a new list for `account`: signed by its key, for this account, exactly one version
 * after the current one, and naming exactly `devices`. Throws INVALID_DEVICE_LIST or
 * STALE_DEVICE_LIST.
 */
export async function checkNewList(
  account: Pick<AccountRow, 'accountId' | 'identityKey' | 'deviceListVersion'> | { accountId: string; identityKey: Uint8Array; deviceListVersion: 0 },
  signed: SignedBodyRow,
  devices: readonly ExpectedDevice[],
  now: number,
): Promise<DeviceList> {
  const list = await verifyDeviceList(signed, account.identityKey, { now });
  if (list === null || list.accountId !== account.accountId) {
    throw new ProtocolError('INVALID_DEVICE_LIST', 'the signature or the account does not match');
  }
  if (list.version !== account.deviceListVersion + 1) {
    throw new ProtocolError('STALE_DEVICE_LIST', `expected version ${account.deviceListVersion + 1}`);
  }
  const matches =
    list.devices.length === devices.length &&
    devices.every((expected) =>
      list.devices.some(
        (entry) =>
          entry.deviceId === expected.deviceId &&
          entry.kind === expected.kind &&
          bytesEqual(entry.identity.signingKey, expected.signingKey) &&
          bytesEqual(entry.identity.agreementKey, expected.agreementKey),
      ),
    );
  if (!matches) throw new ProtocolError('INVALID_DEVICE_LIST', 'the list does not name exactly the devices');
  return list;
}
