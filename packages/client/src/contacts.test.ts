import { create } from '@bufbuild/protobuf';
import { signDeviceList, type DeviceListEntry } from '@pairwise/crypto/device-list';
import { generateAccountIdentity, generateDeviceIdentity, publicIdentity, type AccountIdentity } from '@pairwise/crypto/keys';
import { AccountDevicesSchema } from '@pairwise/protocol/wire';
import { describe, expect, it } from 'vitest';
import { ContactBook } from './contacts.js';
import { DeviceListRejectedError } from './errors.js';
import { MemoryStore } from './memory-store.js';

const NOW = 1_790_000_000_000;

async function entry(deviceId: string, kind: 'primary' | 'companion'): Promise<DeviceListEntry> {
  return { deviceId, kind, identity: publicIdentity(await generateDeviceIdentity()), linkedAt: NOW };
}

async function report(account: AccountIdentity, signer: AccountIdentity, version: number, devices: DeviceListEntry[], serverIds?: string[]) {
  const list = await signDeviceList(signer.privateKey, { accountId: 'bob', version, issuedAt: NOW, expiresAt: NOW + 1e9, devices });
  return create(AccountDevicesSchema, {
    accountId: 'bob',
    accountKey: account.publicKey,
    deviceList: list,
    deviceIds: serverIds ?? devices.map((device) => device.deviceId),
  });
}

async function book() {
  const self = await generateAccountIdentity();
  return new ContactBook(new MemoryStore(), { accountId: 'alice', accountKey: self.publicKey }, () => NOW);
}

describe('[DEVICES-1] [TOFU-1] clients verify device lists', () => {
  it('pins the first key and accepts lists it signed', async () => {
    const contacts = await book();
    const bob = await generateAccountIdentity();
    const phone = await entry('a'.repeat(32), 'primary');
    const change = await contacts.apply(await report(bob, bob, 1, [phone]));
    expect(change.record.devices.map((device) => device.deviceId)).toEqual([phone.deviceId]);
    expect(change.identityChanged).toBe(false);
  });

  it('refuses a forged list (signed by another key than the pinned one) and keeps what it had', async () => {
    const contacts = await book();
    const bob = await generateAccountIdentity();
    const server = await generateAccountIdentity();
    const phone = await entry('a'.repeat(32), 'primary');
    await contacts.apply(await report(bob, bob, 1, [phone]));
    const ghost = await entry('b'.repeat(32), 'companion');
    await expect(contacts.apply(await report(bob, server, 2, [phone, ghost]))).rejects.toBeInstanceOf(DeviceListRejectedError);
    expect((await contacts.get('bob'))?.devices.map((device) => device.deviceId)).toEqual([phone.deviceId]);
  });

  it('never trusts a device the server reports but the list does not name (no ghost devices)', async () => {
    const contacts = await book();
    const bob = await generateAccountIdentity();
    const phone = await entry('a'.repeat(32), 'primary');
    const change = await contacts.apply(await report(bob, bob, 1, [phone], [phone.deviceId, 'c'.repeat(32)]));
    expect(change.record.devices.map((device) => device.deviceId)).toEqual([phone.deviceId]);
  });

  it('refuses an older list than one already accepted (no rollback)', async () => {
    const contacts = await book();
    const bob = await generateAccountIdentity();
    const phone = await entry('a'.repeat(32), 'primary');
    const laptop = await entry('d'.repeat(32), 'companion');
    await contacts.apply(await report(bob, bob, 2, [phone, laptop]));
    await expect(contacts.apply(await report(bob, bob, 1, [phone]))).rejects.toBeInstanceOf(DeviceListRejectedError);
  });

  it('accepts a new account key only with an identity-changed warning, and drops every old device', async () => {
    const contacts = await book();
    const bob = await generateAccountIdentity();
    const newPhone = await generateAccountIdentity();
    const phone = await entry('a'.repeat(32), 'primary');
    await contacts.apply(await report(bob, bob, 5, [phone]));
    const other = await entry('e'.repeat(32), 'primary');
    const change = await contacts.apply(await report(newPhone, newPhone, 1, [other]));
    expect(change.identityChanged).toBe(true);
    expect(change.removedDeviceIds).toContain(phone.deviceId);
    expect(change.record.keyChangedAt).toBe(NOW);
  });

  it('refuses any other key for our own account', async () => {
    const self = await generateAccountIdentity();
    const contacts = new ContactBook(new MemoryStore(), { accountId: 'bob', accountKey: self.publicKey }, () => NOW);
    const impostor = await generateAccountIdentity();
    await expect(contacts.apply(await report(impostor, impostor, 1, [await entry('a'.repeat(32), 'primary')]))).rejects.toBeInstanceOf(
      DeviceListRejectedError,
    );
  });
});
