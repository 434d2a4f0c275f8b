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
import { DeviceInUseError } from './device-lock.js';
import { LinkRequest } from './link-request.js';
import { MemoryStore } from './memory-store.js';
import { FakeServer } from './test-support/fake-server.js';

const ORIGIN = 'https://chat.example.org';

type CertificateTwist = 'none' | 'other-account' | 'other-keys' | 'other-device';

/** Shows a code, then receives a bundle whose certificate is built with `twist`; says what came of it. */
async function linkWith(
  twist: CertificateTwist,
  whileShowing: (store: MemoryStore) => Promise<void> = () => Promise.resolve(),
): Promise<{ outcome: 'linked' | 'error'; store: MemoryStore }> {
  const server = new FakeServer();
  server.on('createLinkToken', () => ({ case: 'linkToken', value: { token: randomBytes(16), expiresAt: server.now() + 60_000 } }));
  const store = new MemoryStore();
  const request = new LinkRequest({ origin: ORIGIN, url: 'ws://fake/ws', socketFactory: server.socketFactory, store, deviceName: 'Test', now: server.now });
  const qr = request.once('qr');
  const outcome = Promise.race([request.once('linked').then(() => 'linked' as const), request.once('error').then(() => 'error' as const)]);
  await request.start();
  const code = decodeLinkQr((await qr).text)!;
  await whileShowing(store);
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

describe('[DEVICE-1] a link request holds the store', () => {
  /** Whether the store's device lock can be had now (and lets it go again). */
  const free = (store: MemoryStore) =>
    store.acquireDeviceLock().then(
      async (lock) => {
        await lock.release();
        return true;
      },
      (error: unknown) => {
        if (!(error instanceof DeviceInUseError)) throw error;
        return false;
      },
    );

  it('from its first key until it is linked, then lets it go for PairwiseClient.open', async () => {
    let whileShowing: boolean | null = null;
    const { outcome, store } = await linkWith('none', async (held) => {
      whileShowing = await free(held);
    });
    expect(whileShowing).toBe(false);
    expect(outcome).toBe('linked');
    expect(await free(store)).toBe(true);
  });

  it('lets it go when the bundle is refused', async () => {
    const { outcome, store } = await linkWith('other-keys');
    expect(outcome).toBe('error');
    expect(await free(store)).toBe(true);
  });

  it('does not start on a store another client is using, and writes nothing to it', async () => {
    const server = new FakeServer();
    const store = new MemoryStore();
    const lock = await store.acquireDeviceLock();
    const request = new LinkRequest({ origin: ORIGIN, url: 'ws://fake/ws', socketFactory: server.socketFactory, store, deviceName: 'Test', now: server.now });
    await expect(request.start()).rejects.toBeInstanceOf(DeviceInUseError);
    expect(await store.list(StoreTable.PreKeys)).toEqual([]);
    expect(server.openSockets).toBe(0);
    await lock.release();
  });
});
