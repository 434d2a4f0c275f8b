import { describe, expect, it } from 'vitest';
import { signDeviceCertificate, verifyDeviceCertificate } from './device-certificate.js';
import {
  DEVICE_LIST_CLOCK_SKEW_MS,
  DeviceKind,
  MAX_LIST_DEVICES,
  signDeviceList,
  verifyDeviceList,
  type DeviceList,
} from './device-list.js';
import { generateAccountIdentity, generateDeviceIdentity, publicIdentity } from './keys.js';

const NOW = 1_790_000_000_000;
const DAY = 24 * 60 * 60 * 1000;

async function makeList(companions = 2, version = 1): Promise<DeviceList> {
  const devices = await Promise.all(
    Array.from({ length: companions + 1 }, async (_, i) => ({
      deviceId: i === 0 ? 'phone' : `companion-${i}`,
      kind: i === 0 ? DeviceKind.Primary : DeviceKind.Companion,
      identity: publicIdentity(await generateDeviceIdentity()),
      linkedAt: NOW - i * DAY,
    })),
  );
  return { accountId: 'alice', version, issuedAt: NOW, expiresAt: NOW + 30 * DAY, devices };
}

describe('[DEVLIST-1] signed device lists', () => {
  it('verify under the account key and decode to what was signed', async () => {
    const account = await generateAccountIdentity();
    const list = await makeList();
    const signed = await signDeviceList(account.privateKey, list);
    expect(await verifyDeviceList(signed, account.publicKey, { now: NOW })).toEqual(list);
  });

  it('a list signed by anyone but the account key is refused (no ghost devices)', async () => {
    const account = await generateAccountIdentity();
    const server = await generateAccountIdentity();
    const forged = await signDeviceList(server.privateKey, await makeList());
    expect(await verifyDeviceList(forged, account.publicKey, { now: NOW })).toBeNull();
  });

  it('every changed byte of the body is refused', async () => {
    const account = await generateAccountIdentity();
    const signed = await signDeviceList(account.privateKey, await makeList(1));
    for (let i = 0; i < signed.body.length; i++) {
      const body = signed.body.slice();
      body[i] = (body[i] as number) ^ 1;
      expect(await verifyDeviceList({ body, signature: signed.signature }, account.publicKey, { now: NOW })).toBeNull();
    }
  });

  it('structural rules: one primary, unique ids and keys, at most the maximum of devices', async () => {
    const account = await generateAccountIdentity();
    const list = await makeList(2);
    const [phone, first, second] = list.devices as [DeviceList['devices'][0], DeviceList['devices'][0], DeviceList['devices'][0]];
    const bad: DeviceList[] = [
      { ...list, devices: [first, second] },
      { ...list, devices: [phone, { ...first, kind: DeviceKind.Primary }] },
      { ...list, devices: [phone, { ...first, deviceId: 'phone' }] },
      { ...list, devices: [phone, { ...first, identity: second.identity }, second] },
      { ...list, expiresAt: list.issuedAt },
      { ...(await makeList(MAX_LIST_DEVICES)) },
    ];
    for (const candidate of bad) await expect(signDeviceList(account.privateKey, candidate)).rejects.toThrow(RangeError);
  });
});

describe('[DEVLIST-2] versions and validity', () => {
  it('a list older than the last accepted version is refused; the same version is accepted', async () => {
    const account = await generateAccountIdentity();
    const signed = await signDeviceList(account.privateKey, await makeList(1, 5));
    expect(await verifyDeviceList(signed, account.publicKey, { now: NOW, minVersion: 6 })).toBeNull();
    expect(await verifyDeviceList(signed, account.publicKey, { now: NOW, minVersion: 5 })).not.toBeNull();
  });

  it('a signature over version n never verifies as version n+1', async () => {
    const account = await generateAccountIdentity();
    const list = await makeList(1, 7);
    const signed = await signDeviceList(account.privateKey, list);
    const next = await signDeviceList(account.privateKey, { ...list, version: 8 });
    expect(await verifyDeviceList({ body: next.body, signature: signed.signature }, account.publicKey, { now: NOW })).toBeNull();
  });

  it('expired and far-future lists are refused', async () => {
    const account = await generateAccountIdentity();
    const list = await makeList(1);
    const signed = await signDeviceList(account.privateKey, list);
    expect(await verifyDeviceList(signed, account.publicKey, { now: list.expiresAt })).toBeNull();
    expect(await verifyDeviceList(signed, account.publicKey, { now: list.expiresAt - 1 })).not.toBeNull();
    expect(await verifyDeviceList(signed, account.publicKey, { now: NOW - DEVICE_LIST_CLOCK_SKEW_MS - 1 })).toBeNull();
    expect(await verifyDeviceList(signed, account.publicKey, { now: NOW - DEVICE_LIST_CLOCK_SKEW_MS })).not.toBeNull();
  });

  it('[CRYPTO-4] a certificate signature never verifies as a list, nor a list as a certificate', async () => {
    const account = await generateAccountIdentity();
    const list = await makeList(1);
    const signedList = await signDeviceList(account.privateKey, list);
    const certificate = await signDeviceCertificate(account.privateKey, {
      accountId: 'alice',
      deviceId: 'phone',
      identity: list.devices[0]!.identity,
      issuedAt: NOW,
    });
    expect(await verifyDeviceList({ body: signedList.body, signature: certificate.signature }, account.publicKey, { now: NOW })).toBeNull();
    expect(await verifyDeviceList(certificate, account.publicKey, { now: NOW })).toBeNull();
    expect(await verifyDeviceCertificate({ body: certificate.body, signature: signedList.signature }, account.publicKey)).toBeNull();
  });

  it('[CRYPTO-3] never throws for garbage from a peer', async () => {
    const account = await generateAccountIdentity();
    for (const junk of [undefined, 5, { body: [1, 2], signature: [3] }]) {
      expect(await verifyDeviceList(junk as never, account.publicKey, { now: NOW })).toBeNull();
    }
  });
});
