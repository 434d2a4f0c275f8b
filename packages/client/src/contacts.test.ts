import { create } from '@bufbuild/protobuf';
import { signDeviceAttestation } from '@pairwise/crypto/device-attestation';
import { signDeviceList, type DeviceListEntry } from '@pairwise/crypto/device-list';
import { generateAccountIdentity, generateDeviceIdentity, publicIdentity, type AccountIdentity, type DeviceIdentity } from '@pairwise/crypto/keys';
import { AccountDevicesSchema } from '@pairwise/protocol/wire';
import { describe, expect, it } from 'vitest';
import { ContactBook, currentDevices, VerificationState } from './contacts.js';
import { DeviceListRejectedError } from './errors.js';
import { MemoryStore } from './memory-store.js';

const NOW = 1_790_000_000_000;

/** A device of Bob's: its list entry and its own keys (to attest with). */
interface TestDevice {
  readonly entry: DeviceListEntry;
  readonly keys: DeviceIdentity;
}

async function device(deviceId: string, kind: 'primary' | 'companion'): Promise<TestDevice> {
  const keys = await generateDeviceIdentity();
  return { entry: { deviceId, kind, identity: publicIdentity(keys), linkedAt: NOW }, keys };
}

interface ReportOptions {
  /** Device ids the server reports registered (default: every listed device). */
  readonly serverIds?: string[];
  /** Devices that have attested (default: all of them). */
  readonly attested?: TestDevice[];
  /** Whose account the attestations name (default: Bob's real key). */
  readonly attestedKey?: Uint8Array;
  readonly expiresAt?: number;
  readonly accountId?: string;
}

async function report(account: AccountIdentity, signer: AccountIdentity, version: number, devices: TestDevice[], options: ReportOptions = {}) {
  const accountId = options.accountId ?? 'bob';
  const list = await signDeviceList(signer.privateKey, {
    accountId,
    version,
    issuedAt: NOW - 1000,
    expiresAt: options.expiresAt ?? NOW + 1e9,
    devices: devices.map((d) => d.entry),
  });
  const attestations = await Promise.all(
    (options.attested ?? devices).map(async (d) => ({
      deviceId: d.entry.deviceId,
      signature: await signDeviceAttestation(d.keys.signing.privateKey, {
        accountId,
        accountKey: options.attestedKey ?? account.publicKey,
        deviceId: d.entry.deviceId,
        identity: d.entry.identity,
      }),
    })),
  );
  return create(AccountDevicesSchema, {
    accountId,
    accountKey: account.publicKey,
    deviceList: list,
    deviceIds: options.serverIds ?? devices.map((d) => d.entry.deviceId),
    attestations,
  });
}

async function book() {
  const self = await generateAccountIdentity();
  return new ContactBook(new MemoryStore(), { accountId: 'alice', accountKey: self.publicKey }, () => NOW);
}

const ids = (devices: readonly DeviceListEntry[]) => devices.map((d) => d.deviceId);

describe('[DEVICES-1] [TOFU-1] clients verify device lists', () => {
  it('pins the first key and accepts lists it signed', async () => {
    const contacts = await book();
    const bob = await generateAccountIdentity();
    const phone = await device('a'.repeat(32), 'primary');
    const change = await contacts.apply(await report(bob, bob, 1, [phone]));
    expect(ids(change.record.devices)).toEqual([phone.entry.deviceId]);
    expect(change.identityChanged).toBe(false);
    expect(change.record.verification.state).toBe(VerificationState.Default);
  });

  it('refuses a forged list (signed by another key than the pinned one) and keeps what it had', async () => {
    const contacts = await book();
    const bob = await generateAccountIdentity();
    const server = await generateAccountIdentity();
    const phone = await device('a'.repeat(32), 'primary');
    await contacts.apply(await report(bob, bob, 1, [phone]));
    const ghost = await device('b'.repeat(32), 'companion');
    await expect(contacts.apply(await report(bob, server, 2, [phone, ghost]))).rejects.toBeInstanceOf(DeviceListRejectedError);
    expect(ids((await contacts.get('bob'))!.devices)).toEqual([phone.entry.deviceId]);
  });

  it('never trusts a device the server reports but the list does not name (no ghost devices)', async () => {
    const contacts = await book();
    const bob = await generateAccountIdentity();
    const phone = await device('a'.repeat(32), 'primary');
    const change = await contacts.apply(await report(bob, bob, 1, [phone], { serverIds: [phone.entry.deviceId, 'c'.repeat(32)] }));
    expect(ids(change.record.devices)).toEqual([phone.entry.deviceId]);
  });

  it('refuses an older list than one already accepted (no rollback)', async () => {
    const contacts = await book();
    const bob = await generateAccountIdentity();
    const phone = await device('a'.repeat(32), 'primary');
    const laptop = await device('d'.repeat(32), 'companion');
    await contacts.apply(await report(bob, bob, 2, [phone, laptop]));
    await expect(contacts.apply(await report(bob, bob, 1, [phone]))).rejects.toBeInstanceOf(DeviceListRejectedError);
  });

  it('accepts a new account key only with an identity-changed warning, and drops every old device', async () => {
    const contacts = await book();
    const bob = await generateAccountIdentity();
    const newPhone = await generateAccountIdentity();
    const phone = await device('a'.repeat(32), 'primary');
    await contacts.apply(await report(bob, bob, 5, [phone]));
    const other = await device('e'.repeat(32), 'primary');
    const change = await contacts.apply(await report(newPhone, newPhone, 1, [other]));
    expect(change.identityChanged).toBe(true);
    expect(change.removedDeviceIds).toContain(phone.entry.deviceId);
    expect(change.record.keyChangedAt).toBe(NOW);
  });

  it('refuses any other key for our own account', async () => {
    const self = await generateAccountIdentity();
    const contacts = new ContactBook(new MemoryStore(), { accountId: 'bob', accountKey: self.publicKey }, () => NOW);
    const impostor = await generateAccountIdentity();
    await expect(contacts.apply(await report(impostor, impostor, 1, [await device('a'.repeat(32), 'primary')]))).rejects.toBeInstanceOf(
      DeviceListRejectedError,
    );
  });
});

describe('[TOFU-2] a key once replaced is never silently accepted again', () => {
  it('an old key coming back with its old list is refused as a rollback; with a newer list it is a new change', async () => {
    const contacts = await book();
    const k = await generateAccountIdentity();
    const k2 = await generateAccountIdentity();
    const phone = await device('a'.repeat(32), 'primary');
    const newPhone = await device('e'.repeat(32), 'primary');
    await contacts.apply(await report(k, k, 3, [phone]));
    expect((await contacts.apply(await report(k2, k2, 1, [newPhone]))).identityChanged).toBe(true);
    // The server serves K again with the last list seen under it (or an older one): refused.
    for (const version of [3, 2]) {
      await expect(contacts.apply(await report(k, k, version, [phone]))).rejects.toBeInstanceOf(DeviceListRejectedError);
    }
    const kept = (await contacts.get('bob'))!;
    expect(kept.accountKey).toEqual(k2.publicKey);
    // A list newer than any seen under K is a genuine change back, and says so.
    const back = await contacts.apply(await report(k, k, 4, [phone]));
    expect(back.identityChanged).toBe(true);
    expect(back.record.accountKey).toEqual(k.publicKey);
    expect(back.record.knownKeys.map((known) => known.highestVersion).sort()).toEqual([1, 4]);
  });

  it('a verified contact whose key changes is held until the person decides', async () => {
    const contacts = await book();
    const k = await generateAccountIdentity();
    const k2 = await generateAccountIdentity();
    await contacts.apply(await report(k, k, 1, [await device('a'.repeat(32), 'primary')]));
    expect((await contacts.decide('bob', VerificationState.Verified, k.publicKey, NOW))?.verification.state).toBe(VerificationState.Verified);
    // A decision about a key that is not the current one changes nothing.
    expect(await contacts.decide('bob', VerificationState.Default, k2.publicKey, NOW + 1)).toBeNull();
    const changed = await contacts.apply(await report(k2, k2, 1, [await device('e'.repeat(32), 'primary')]));
    expect(changed.record.verification).toMatchObject({ state: VerificationState.Held, key: k2.publicKey });
  });
});

describe('[ATTEST-1] a device is trusted only with its own attestation of the account', () => {
  it('a listed device that has not attested is not encrypted to until it does', async () => {
    const contacts = await book();
    const bob = await generateAccountIdentity();
    const phone = await device('a'.repeat(32), 'primary');
    const laptop = await device('b'.repeat(32), 'companion');
    const pending = await contacts.apply(await report(bob, bob, 2, [phone, laptop], { attested: [phone] }));
    expect(ids(pending.record.devices)).toEqual([phone.entry.deviceId]);
    // The primary still signs its next list over every registered device.
    expect(ids(pending.record.registeredDevices)).toEqual([phone.entry.deviceId, laptop.entry.deviceId]);
    const attested = await contacts.apply(await report(bob, bob, 2, [phone, laptop]));
    expect(ids(attested.record.devices)).toEqual([phone.entry.deviceId, laptop.entry.deviceId]);
    expect(attested.addedDeviceIds).toEqual([laptop.entry.deviceId]);
  });

  it("refuses a list naming a device whose attestation is for another account (another account's device listed as ours)", async () => {
    const contacts = await book();
    const mallory = await generateAccountIdentity();
    const alice = await generateAccountIdentity();
    const malloryPhone = await device('a'.repeat(32), 'primary');
    // One of Alice's devices, its keys copied onto Mallory's list with the attestation it made for Alice.
    const alicesLaptop = await device('b'.repeat(32), 'companion');
    const forged = await report(mallory, mallory, 1, [malloryPhone, alicesLaptop], { accountId: 'mallory', attested: [malloryPhone] });
    const alicesPhone = await device('c'.repeat(32), 'primary');
    const aliceReport = await report(alice, alice, 1, [alicesPhone, alicesLaptop], { accountId: 'alice' });
    const aliceAttestation = aliceReport.attestations.find((attestation) => attestation.deviceId === alicesLaptop.entry.deviceId)!;
    forged.attestations.push(aliceAttestation);
    await expect(contacts.apply(forged)).rejects.toBeInstanceOf(DeviceListRejectedError);
    expect(await contacts.get('mallory')).toBeNull();
    // Without any attestation the borrowed device is simply never trusted.
    const unattested = await report(mallory, mallory, 1, [malloryPhone, alicesLaptop], { accountId: 'mallory', attested: [malloryPhone] });
    expect(ids((await contacts.apply(unattested)).record.devices)).toEqual([malloryPhone.entry.deviceId]);
  });
});

describe('[DEVLIST-3] an expired list trusts only its primary', () => {
  it('keeps the devices of an expired list but encrypts to its primary alone', async () => {
    const contacts = await book();
    const bob = await generateAccountIdentity();
    const phone = await device('a'.repeat(32), 'primary');
    const laptop = await device('b'.repeat(32), 'companion');
    const change = await contacts.apply(await report(bob, bob, 1, [phone, laptop], { expiresAt: NOW }));
    expect(ids(change.record.devices)).toEqual([phone.entry.deviceId, laptop.entry.deviceId]);
    expect(ids(currentDevices(change.record, NOW))).toEqual([phone.entry.deviceId]);
    expect(ids(currentDevices(change.record, NOW - 1))).toEqual([phone.entry.deviceId, laptop.entry.deviceId]);
  });
});
