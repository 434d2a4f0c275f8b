/**
 * Pinned account keys, verified device lists and what the person decided about each contact's
 * safety number (SPEC DEVICES-1, TOFU-1, TOFU-2, ATTEST-1, DEVLIST-3, VERIFY-*).
 *
 * The first account key seen for an account is pinned. Every device list is verified against the
 * pinned key before any device on it is trusted, and a device is trusted only with its own
 * attestation that it belongs to the account: a device the server reports but the list does not
 * name, or one that never countersigned this account, is never encrypted to (no ghost devices, no
 * device borrowed from another account). A changed key of a contact is accepted with a notice, as
 * people do change phones; our own account's key never changes.
 *
 * A key once replaced is not silently accepted again: every key seen for a contact is kept with
 * the highest list version seen under it. An old key coming back must bring a list newer than any
 * it had (otherwise it is refused as a rollback) and counts as a change like any other.
 * @module
 */
import { bytesEqual } from '@pairwise/crypto/bytes';
import { verifyDeviceAttestation } from '@pairwise/crypto/device-attestation';
import { verifyDeviceList, type DeviceListEntry } from '@pairwise/crypto/device-list';
import { KeyedMutex } from '@pairwise/protocol/keyed-mutex';
import type { AccountDevices } from '@pairwise/protocol/wire';
import { StoreTable, type ClientStore } from './client-store.js';
import { DeviceListRejectedError } from './errors.js';

/** What the person decided about a contact's safety number. */
export const VerificationState = {
  /** Never compared (or cleared): messages go out; a key change shows a notice. */
  Default: 'default',
  /** Compared in person or scanned, for `key`. */
  Verified: 'verified',
  /**
   * The key of a verified contact changed: sending to them waits until the person verifies the
   * new safety number or chooses "Send anyway" (Signal's behaviour).
   */
  Held: 'held',
} as const;
/** One of `VerificationState`. */
export type VerificationState = (typeof VerificationState)[keyof typeof VerificationState];

/** A contact's verification: which state, for which key, decided when. */
export interface Verification {
  readonly state: VerificationState;
  /** The account key the state is about (the current key once held). */
  readonly key: Uint8Array;
  /** When it was decided; between this person's devices the latest decision wins (SPEC VERIFY-4). */
  readonly decidedAt: number;
}

/** A key seen for a contact, with the highest list version accepted under it. */
export interface KnownKey {
  readonly key: Uint8Array;
  readonly highestVersion: number;
}

/** What this device knows and trusts about one account. */
export interface ContactRecord {
  readonly version: 2;
  readonly accountId: string;
  readonly accountKey: Uint8Array;
  readonly listVersion: number;
  /** The signed list's `expiresAt`: past it only the primary is trusted (SPEC DEVLIST-3). */
  readonly listExpiresAt: number;
  /** Devices to encrypt to: on the verified list, reported current by the server, and attested. */
  readonly devices: readonly DeviceListEntry[];
  /** Devices on the list that the server still has, attested or not: the primary signs its next list over these. */
  readonly registeredDevices: readonly DeviceListEntry[];
  /** Every device the signed list names (some may have left since it was signed). */
  readonly listedDeviceIds: readonly string[];
  /** The signed list itself. */
  readonly listBody: Uint8Array;
  readonly pinnedAt: number;
  /** When the account key last changed from a pinned one, or `null`. */
  readonly keyChangedAt: number | null;
  /** Every account key seen, the current one included (SPEC TOFU-2). */
  readonly knownKeys: readonly KnownKey[];
  readonly verification: Verification;
}

/** The outcome of applying a server report. */
export interface ContactChange {
  readonly record: ContactRecord;
  readonly identityChanged: boolean;
  readonly addedDeviceIds: readonly string[];
  readonly removedDeviceIds: readonly string[];
}

/** The devices to encrypt to at `now`: all trusted ones, or only the primary of an expired list. */
export function currentDevices(record: ContactRecord, now: number): readonly DeviceListEntry[] {
  if (record.listExpiresAt > now) return record.devices;
  return record.devices.filter((device) => device.kind === 'primary');
}

export class ContactBook {
  /** Changes of one account run one after another: two reports racing must not both see the old key. */
  private readonly changes = new KeyedMutex();

  constructor(
    private readonly store: ClientStore,
    private readonly self: { readonly accountId: string; readonly accountKey: Uint8Array },
    private readonly now: () => number,
  ) {}

  /** What is known of an account, or `null` (a record of an older format counts as unknown). */
  async get(accountId: string): Promise<ContactRecord | null> {
    const record = await this.store.get<ContactRecord>(StoreTable.Contacts, accountId);
    return record?.version === 2 ? record : null;
  }

  /**
   * Verifies a server report of an account's devices and records it. Throws
   * DeviceListRejectedError when the list does not verify against the key we trust, is older than
   * one already accepted under that key, carries an attestation that does not verify, or when our
   * own account's key is not ours.
   */
  apply(report: AccountDevices): Promise<ContactChange> {
    return this.changes.run(report.accountId, () => this.applyNow(report));
  }

  private async applyNow(report: AccountDevices): Promise<ContactChange> {
    const previous = await this.get(report.accountId);
    const isSelf = report.accountId === this.self.accountId;
    const key = report.accountKey;
    if (isSelf && !bytesEqual(key, this.self.accountKey)) throw new DeviceListRejectedError('our own account key does not match');
    const pinned = isSelf ? this.self.accountKey : (previous?.accountKey ?? key);
    const keyChanged = !bytesEqual(pinned, key);
    const known = previous?.knownKeys.find((candidate) => bytesEqual(candidate.key, key)) ?? null;
    // The current key: no older list than the last one. A key seen before and replaced since: only
    // a list newer than any it had, or a server could roll the contact back to it. A new key: any.
    const minVersion = !keyChanged ? (previous?.listVersion ?? 0) : known !== null ? known.highestVersion + 1 : 0;
    const list = await verifyDeviceList(
      { body: report.deviceList?.body ?? new Uint8Array(0), signature: report.deviceList?.signature ?? new Uint8Array(0) },
      key,
      // An expired list still says who the primary is; `currentDevices` trusts only that one.
      { now: this.now(), minVersion, allowExpired: true },
    );
    if (list === null || list.accountId !== report.accountId) {
      throw new DeviceListRejectedError(`the device list of ${report.accountId} does not verify`);
    }
    const registered = new Set(report.deviceIds);
    const registeredDevices = list.devices.filter((device) => registered.has(device.deviceId));
    const devices = await this.attested(report, key, registeredDevices);
    const now = this.now();
    const before = new Set(keyChanged ? [] : (previous?.devices ?? []).map((device) => device.deviceId));
    const after = new Set(devices.map((device) => device.deviceId));
    const identityChanged = keyChanged && previous !== null;
    const record: ContactRecord = {
      version: 2,
      accountId: report.accountId,
      accountKey: key,
      listVersion: list.version,
      listExpiresAt: list.expiresAt,
      devices,
      registeredDevices,
      listedDeviceIds: list.devices.map((device) => device.deviceId),
      listBody: report.deviceList?.body ?? new Uint8Array(0),
      pinnedAt: previous?.pinnedAt ?? now,
      keyChangedAt: identityChanged ? now : (previous?.keyChangedAt ?? null),
      knownKeys: remember(previous?.knownKeys ?? [], key, list.version),
      verification: identityChanged
        ? changedKeyVerification(previous.verification, key)
        : (previous?.verification ?? { state: VerificationState.Default, key, decidedAt: 0 }),
    };
    await this.store.put(StoreTable.Contacts, report.accountId, record);
    return {
      record,
      identityChanged,
      addedDeviceIds: [...after].filter((id) => !before.has(id)),
      removedDeviceIds: [
        ...[...before].filter((id) => !after.has(id)),
        // A new key makes every earlier device of the account untrusted.
        ...(identityChanged ? previous.devices.map((device) => device.deviceId) : []),
      ],
    };
  }

  /**
   * Records a verification decision for the contact's current key. Returns the record, or `null`
   * when `key` is not the contact's current key (a decision about a key we no longer trust).
   */
  decide(accountId: string, state: VerificationState, key: Uint8Array, decidedAt: number): Promise<ContactRecord | null> {
    return this.changes.run(accountId, async () => {
      const record = await this.get(accountId);
      if (record === null || !bytesEqual(record.accountKey, key)) return null;
      const updated: ContactRecord = { ...record, verification: { state, key, decidedAt } };
      await this.store.put(StoreTable.Contacts, accountId, updated);
      return updated;
    });
  }

  /**
   * The registered list entries whose attestation verifies. A device without one is pending
   * (a companion linked a moment ago); one whose attestation does not verify can only come from a
   * server listing a device under an account it never joined, and the whole report is refused.
   */
  private async attested(report: AccountDevices, accountKey: Uint8Array, entries: readonly DeviceListEntry[]): Promise<DeviceListEntry[]> {
    const signatures = new Map(report.attestations.map((attestation) => [attestation.deviceId, attestation.signature]));
    const checks = await Promise.all(
      entries.map(async (entry) => {
        const signature = signatures.get(entry.deviceId);
        if (signature === undefined) return false;
        const valid = await verifyDeviceAttestation(
          { accountId: report.accountId, accountKey, deviceId: entry.deviceId, identity: entry.identity },
          signature,
        );
        if (!valid) throw new DeviceListRejectedError(`device ${entry.deviceId} never attested account ${report.accountId}`);
        return true;
      }),
    );
    return entries.filter((_, i) => checks[i]);
  }
}

/** The known keys with `key` at `version` (kept at the highest version seen under it). */
function remember(knownKeys: readonly KnownKey[], key: Uint8Array, version: number): KnownKey[] {
  const others = knownKeys.filter((candidate) => !bytesEqual(candidate.key, key));
  const highest = Math.max(version, knownKeys.find((candidate) => bytesEqual(candidate.key, key))?.highestVersion ?? 0);
  return [...others, { key, highestVersion: highest }];
}

/**
 * A verified contact's new key holds sending until the person decides (SPEC VERIFY-3). The hold is
 * no decision: it carries time 0, so that any decision about the new key, made here or synced
 * from another of this person's devices (which may have seen the change first), replaces it.
 */
function changedKeyVerification(previous: Verification, key: Uint8Array): Verification {
  const wasVerified = previous.state === VerificationState.Verified || previous.state === VerificationState.Held;
  return { state: wasVerified ? VerificationState.Held : VerificationState.Default, key, decidedAt: 0 };
}
