/**
 * Pinned account keys and verified device lists (SPEC DEVICES-2, TOFU-1).
 *
 * The first account key seen for an account is pinned. Every device list is verified against the
 * pinned key before any device on it is trusted; a device the server reports but the list does not
 * name is never encrypted to (no ghost devices). A changed key of a contact is accepted only with
 * an "identity changed" warning, as people do change phones; our own account's key never changes.
 * @module
 */
import { bytesEqual } from '@pairwise/crypto/bytes';
import { verifyDeviceList, type DeviceListEntry } from '@pairwise/crypto/device-list';
import type { AccountDevices } from '@pairwise/protocol/wire';
import { StoreTable, type ClientStore } from './client-store.js';
import { DeviceListRejectedError } from './errors.js';

/** What this device knows and trusts about one account. */
export interface ContactRecord {
  readonly version: 1;
  readonly accountId: string;
  readonly accountKey: Uint8Array;
  readonly listVersion: number;
  /** Devices on the verified list that the server also reports as current. */
  readonly devices: readonly DeviceListEntry[];
  /** Every device the signed list names (some may have left since it was signed). */
  readonly listedDeviceIds: readonly string[];
  /** The signed list itself, for re-signing our own. */
  readonly listBody: Uint8Array;
  readonly pinnedAt: number;
  /** When the account key last changed from a pinned one, or `null`. */
  readonly keyChangedAt: number | null;
}

/** The outcome of applying a server report. */
export interface ContactChange {
  readonly record: ContactRecord;
  readonly identityChanged: boolean;
  readonly addedDeviceIds: readonly string[];
  readonly removedDeviceIds: readonly string[];
}

export class ContactBook {
  constructor(
    private readonly store: ClientStore,
    private readonly self: { readonly accountId: string; readonly accountKey: Uint8Array },
    private readonly now: () => number,
  ) {}

  /** What is known of an account, or `null`. */
  async get(accountId: string): Promise<ContactRecord | null> {
    return (await this.store.get<ContactRecord>(StoreTable.Contacts, accountId)) ?? null;
  }

  /**
   * Verifies a server report of an account's devices and records it. Throws
   * DeviceListRejectedError when the list does not verify against the key we trust, is older
   * than one already accepted, or when our own account's key is not ours.
   */
  async apply(report: AccountDevices): Promise<ContactChange> {
    const previous = await this.get(report.accountId);
    const isSelf = report.accountId === this.self.accountId;
    const trustedKey = isSelf ? this.self.accountKey : (previous?.accountKey ?? report.accountKey);
    const keyChanged = !bytesEqual(trustedKey, report.accountKey);
    if (keyChanged && isSelf) throw new DeviceListRejectedError('our own account key does not match');
    const key = keyChanged ? report.accountKey : trustedKey;
    const list = await verifyDeviceList(
      { body: report.deviceList?.body ?? new Uint8Array(0), signature: report.deviceList?.signature ?? new Uint8Array(0) },
      key,
      { now: this.now(), minVersion: keyChanged ? 0 : (previous?.listVersion ?? 0) },
    );
    if (list === null || list.accountId !== report.accountId) {
      throw new DeviceListRejectedError(`the device list of ${report.accountId} does not verify`);
    }
    const current = new Set(report.deviceIds);
    const devices = list.devices.filter((device) => current.has(device.deviceId));
    const before = new Set(keyChanged ? [] : (previous?.devices ?? []).map((device) => device.deviceId));
    const after = new Set(devices.map((device) => device.deviceId));
    const record: ContactRecord = {
      version: 1,
      accountId: report.accountId,
      accountKey: key,
      listVersion: list.version,
      devices,
      listedDeviceIds: list.devices.map((device) => device.deviceId),
      listBody: report.deviceList?.body ?? new Uint8Array(0),
      pinnedAt: previous?.pinnedAt ?? this.now(),
      keyChangedAt: keyChanged && previous !== null ? this.now() : (previous?.keyChangedAt ?? null),
    };
    await this.store.put(StoreTable.Contacts, report.accountId, record);
    return {
      record,
      identityChanged: keyChanged && previous !== null,
      addedDeviceIds: [...after].filter((id) => !before.has(id)),
      removedDeviceIds: [
        ...[...before].filter((id) => !after.has(id)),
        // A new key makes every earlier device of the account untrusted.
        ...(keyChanged && previous ? previous.devices.map((device) => device.deviceId) : []),
      ],
    };
  }
}
