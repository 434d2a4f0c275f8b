import { describe, expect, it } from 'vitest';
import { signDeviceCertificate, verifyDeviceCertificate, type DeviceCertificate } from './device-certificate.js';
import { signDeviceList } from './device-list.js';
import { generateAccountIdentity, generateDeviceIdentity, publicIdentity } from './keys.js';

async function setup() {
  const account = await generateAccountIdentity();
  const device = await generateDeviceIdentity();
  const certificate: DeviceCertificate = {
    accountId: 'alice',
    deviceId: 'laptop-1',
    identity: publicIdentity(device),
    issuedAt: 1_790_000_000_000,
  };
  return { account, certificate, signed: await signDeviceCertificate(account.privateKey, certificate) };
}

describe('[CERT-1] device certificates', () => {
  it('verify under the account key and decode to what was signed', async () => {
    const { account, certificate, signed } = await setup();
    expect(await verifyDeviceCertificate(signed, account.publicKey)).toEqual(certificate);
  });

  it('are refused under another account key, with a changed byte, or with a bad signature', async () => {
    const { account, signed } = await setup();
    const other = await generateAccountIdentity();
    expect(await verifyDeviceCertificate(signed, other.publicKey)).toBeNull();
    for (let i = 0; i < signed.body.length; i += 7) {
      const body = signed.body.slice();
      body[i] = (body[i] as number) ^ 0x20;
      expect(await verifyDeviceCertificate({ body, signature: signed.signature }, account.publicKey)).toBeNull();
    }
    expect(await verifyDeviceCertificate({ body: signed.body, signature: new Uint8Array(64) }, account.publicKey)).toBeNull();
  });

  it('[CRYPTO-3] never throw for garbage from a peer', async () => {
    const { account } = await setup();
    for (const junk of [null, {}, { body: 'x', signature: 'y' }, { body: new Uint8Array(0), signature: new Uint8Array(3) }]) {
      expect(await verifyDeviceCertificate(junk as never, account.publicKey)).toBeNull();
    }
    expect(await verifyDeviceCertificate({ body: new Uint8Array(1), signature: new Uint8Array(64) }, 'key' as never)).toBeNull();
  });

  it('[CRYPTO-4] a device list signature never verifies as a certificate', async () => {
    const { account, certificate } = await setup();
    const list = await signDeviceList(account.privateKey, {
      accountId: 'alice',
      version: 1,
      issuedAt: 1,
      expiresAt: 2,
      devices: [{ deviceId: 'phone', kind: 'primary', identity: certificate.identity, linkedAt: 1 }],
    });
    expect(await verifyDeviceCertificate(list, account.publicKey)).toBeNull();
  });

  it('ids are measured in UTF-8: the longest accepted non-ASCII id signs and verifies', async () => {
    const { account, certificate } = await setup();
    const longest = { ...certificate, deviceId: 'é'.repeat(64) }; // 128 bytes of UTF-8
    const signed = await signDeviceCertificate(account.privateKey, longest);
    expect(await verifyDeviceCertificate(signed, account.publicKey)).toEqual(longest);
    await expect(signDeviceCertificate(account.privateKey, { ...certificate, deviceId: 'é'.repeat(65) })).rejects.toThrow(
      RangeError,
    );
  });

  it('[CRYPTO-3] signing refuses bad input, naming it', async () => {
    const { account, certificate } = await setup();
    await expect(signDeviceCertificate(account.privateKey, { ...certificate, deviceId: '' })).rejects.toThrow(/deviceId/);
    await expect(
      signDeviceCertificate(account.privateKey, { ...certificate, identity: { ...certificate.identity, signingKey: new Uint8Array(3) } }),
    ).rejects.toThrow(/signingKey/);
  });
});
