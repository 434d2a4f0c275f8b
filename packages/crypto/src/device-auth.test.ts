import { describe, expect, it } from 'vitest';
import { randomBytes } from './bytes.js';
import { signDeviceChallenge, verifyDeviceChallenge, type DeviceChallenge } from './device-auth.js';
import { signDeviceList } from './device-list.js';
import { generateDeviceIdentity } from './keys.js';

describe('[AUTH-1] device challenge signatures', () => {
  it('verify for exactly the challenge signed', async () => {
    const device = await generateDeviceIdentity();
    const challenge: DeviceChallenge = {
      origin: 'https://chat.example.org',
      nonce: randomBytes(32),
      accountId: 'alice',
      deviceId: 'a'.repeat(32),
      clientTime: 1_790_000_000_000,
    };
    const signature = await signDeviceChallenge(device.signing.privateKey, challenge);
    expect(await verifyDeviceChallenge(device.signing.publicKey, challenge, signature)).toBe(true);
    const changes: Partial<DeviceChallenge>[] = [
      { origin: 'https://phish.example.net' },
      { nonce: randomBytes(32) },
      { accountId: 'mallory' },
      { deviceId: 'b'.repeat(32) },
      { clientTime: challenge.clientTime + 1 },
    ];
    for (const change of changes) {
      expect(await verifyDeviceChallenge(device.signing.publicKey, { ...challenge, ...change }, signature)).toBe(false);
    }
    const other = await generateDeviceIdentity();
    expect(await verifyDeviceChallenge(other.signing.publicKey, challenge, signature)).toBe(false);
    // [CRYPTO-4] a connection signature is never a log-out signature, nor the reverse.
    expect(await verifyDeviceChallenge(device.signing.publicKey, { ...challenge, purpose: 'log-out' }, signature)).toBe(false);
    const logOut = await signDeviceChallenge(device.signing.privateKey, { ...challenge, purpose: 'log-out' });
    expect(await verifyDeviceChallenge(device.signing.publicKey, challenge, logOut)).toBe(false);
    expect(await verifyDeviceChallenge(device.signing.publicKey, { ...challenge, purpose: 'log-out' }, logOut)).toBe(true);
  });

  it('[CRYPTO-4] a signature for another purpose never authenticates, and junk is false', async () => {
    const device = await generateDeviceIdentity();
    const list = await signDeviceList(device.signing.privateKey, {
      accountId: 'alice',
      version: 1,
      issuedAt: 1,
      expiresAt: 2,
      devices: [{ deviceId: 'phone', kind: 'primary', identity: { signingKey: device.signing.publicKey, agreementKey: device.agreement.publicKey }, linkedAt: 1 }],
    });
    const challenge = { origin: 'https://x', nonce: list.body, accountId: 'alice', deviceId: 'd', clientTime: 1 };
    expect(await verifyDeviceChallenge(device.signing.publicKey, challenge, list.signature)).toBe(false);
    expect(await verifyDeviceChallenge(device.signing.publicKey, { ...challenge, clientTime: -1 }, new Uint8Array(64))).toBe(false);
  });
});
