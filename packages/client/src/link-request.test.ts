// The companion's side of linking against a fake server: the bundle it accepts names it whole
// (SPEC LINK-4, CERT-1): the list names its device with its keys, and so does the certificate,
// for the same account.
import { create, toBinary } from '@bufbuild/protobuf';
import { signDeviceCertificate } from '@pairwise/crypto/device-certificate';
import { signDeviceList } from '@pairwise/crypto/device-list';
import { generateAccountIdentity, generateDeviceIdentity, publicIdentity } from '@pairwise/crypto/keys';
import { sealLinkBundle } from '@pairwise/crypto/link-bundle';
import { randomBytes, toHex } from '@pairwise/crypto/bytes';
import { decodeLinkQr } from '@pairwise/protocol/link-qr';
import { LinkBundleSchema } from '@pairwise/protocol/wire';
import { describe, expect, it } from 'vitest';
import { StoreTable } from './client-store.js';
import { LinkRequest } from './link-request.js';
import { MemoryStore } from './memory-store.js';
import { FakeServer } from './test-support/fake-server.js';

const ORIGIN = 'https://chat.example.org';

type CertificateTwist = 'none' | 'other-account' | 'other-keys' | 'other-device';

/** Shows a code, then receives a bundle whose certificate is built with `twist`; says what came of it. */
async function linkWith(twist: CertificateTwist): Promise<{ outcome: 'linked' | 'error'; store: MemoryStore }> {
  const server = new FakeServer();
  server.on('createLinkToken', () => ({ case: 'linkToken', value: { token: randomBytes(16), expiresAt: server.now() + 60_000 } }));
  const store = new MemoryStore();
  const request = new LinkRequest({ origin: ORIGIN, url: 'ws://fake/ws', socketFactory: server.socketFactory, store, deviceName: 'Test', now: server.now });
  const qr = request.once('qr');
  const outcome = Promise.race([request.once('linked').then(() => 'linked' as const), request.once('error').then(() => 'error' as const)]);
  await request.start();
  const code = decodeLinkQr((await qr).text)!;
  const account = await generateAccountIdentity();
  const phone = await generateDeviceIdentity();
  const now = server.now();
  const companion = { signingKey: code.signingKey, agreementKey: code.agreementKey };
  const deviceList = await signDeviceList(account.privateKey, {
    accountId: 'alice',
    version: 2,
    issuedAt: now,
    expiresAt: now + 1e9,
    devices: [
      { deviceId: toHex(randomBytes(16)), kind: 'primary', identity: publicIdentity(phone), linkedAt: now },
      { deviceId: code.deviceId, kind: 'companion', identity: companion, linkedAt: now },
    ],
  });
  const other = publicIdentity(await generateDeviceIdentity());
  const deviceCertificate = await signDeviceCertificate(account.privateKey, {
    accountId: twist === 'other-account' ? 'mallory' : 'alice',
    deviceId: twist === 'other-device' ? toHex(randomBytes(16)) : code.deviceId,
    identity: twist === 'other-keys' ? other : companion,
    issuedAt: now,
  });
  const bundle = toBinary(
    LinkBundleSchema,
    create(LinkBundleSchema, { accountId: 'alice', accountKey: account.publicKey, deviceCertificate, deviceList, primaryDeviceId: 'x' }),
  );
  const sealedBundle = await sealLinkBundle(code.ephemeralKey, { token: code.token, origin: ORIGIN }, bundle);
  server.push({ body: { case: 'linkApproved', value: { accountId: 'alice', sealedBundle } } });
  return { outcome: await outcome, store };
}

describe('[LINK-4] [CERT-1] the companion checks the whole device certificate', () => {
  it('accepts a bundle whose certificate names this account, this device and its keys', async () => {
    const { outcome, store } = await linkWith('none');
    expect(outcome).toBe('linked');
    expect(await store.get(StoreTable.Identity, 'self')).toMatchObject({ accountId: 'alice', kind: 'companion' });
  });

  it.each(['other-account', 'other-keys', 'other-device'] as const)('refuses one whose certificate names %s, keeping nothing', async (twist) => {
    const { outcome, store } = await linkWith(twist);
    expect(outcome).toBe('error');
    expect(await store.get(StoreTable.Identity, 'self')).toBeUndefined();
  });
});
