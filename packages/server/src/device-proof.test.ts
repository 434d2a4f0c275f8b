// The one device-proof check behind both Authenticate and the HTTP log out, against a real
// in-memory SQLite store and real Ed25519 signatures.
import { randomBytes } from 'node:crypto';
import { signDeviceChallenge } from '@pairwise/crypto/device-auth';
import { generateEd25519KeyPair } from '@pairwise/crypto/ed25519';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyDeviceProof, type DeviceProof } from './device-proof.js';
import { accountFixture, closeAccountFixtures } from './test-support/account-fixture.js';

afterEach(closeAccountFixtures);

async function setUp(purpose: DeviceProof['purpose'] = 'connect') {
  const keys = await generateEd25519KeyPair();
  const { ctx, clock, ids } = await accountFixture({ companionSigningKey: keys.publicKey });
  const nonce = new Uint8Array(randomBytes(32));
  const sign = async (changes: Partial<DeviceProof> = {}, signedPurpose = purpose): Promise<DeviceProof> => {
    const unsigned = { nonce, accountId: 'alice', deviceId: ids.companion, clientTime: clock.now(), purpose, ...changes };
    const signature = await signDeviceChallenge(keys.privateKey, { ...unsigned, origin: ctx.config.publicOrigin, purpose: signedPurpose });
    return { ...unsigned, signature };
  };
  return { ctx, ids, sign };
}

describe('[AUTH-1] [AUTH-3] [REVOKE-4] device proofs', () => {
  it('a proof signed for its purpose gives the device', async () => {
    for (const purpose of ['connect', 'log-out'] as const) {
      const { ctx, ids, sign } = await setUp(purpose);
      expect((await verifyDeviceProof(ctx, await sign()))?.deviceId).toBe(ids.companion);
    }
  });

  it('the clock comes first: a skewed proof is CLOCK_SKEW even for an unknown device', async () => {
    const { ctx, sign } = await setUp();
    const skewed = await sign({ clientTime: ctx.clock.now() - 61_000 });
    await expect(verifyDeviceProof(ctx, skewed)).rejects.toMatchObject({ code: 'CLOCK_SKEW' });
    const unknown = await sign({ clientTime: ctx.clock.now() + 61_000, deviceId: 'f'.repeat(32) });
    await expect(verifyDeviceProof(ctx, unknown)).rejects.toMatchObject({ code: 'CLOCK_SKEW' });
  });

  it('an unknown device is null, before any signature is looked at', async () => {
    const { ctx, sign } = await setUp();
    const proof = { ...(await sign({ deviceId: 'f'.repeat(32) })), signature: new Uint8Array(64) };
    expect(await verifyDeviceProof(ctx, proof)).toBeNull();
  });

  it('another account, another purpose, another nonce or a bad signature is AUTH_FAILED', async () => {
    const { ctx, sign } = await setUp('log-out');
    const refused = [
      await sign({ accountId: 'mallory' }),
      await sign({}, 'connect'),
      { ...(await sign()), nonce: new Uint8Array(32) },
      { ...(await sign()), signature: new Uint8Array(64) },
    ];
    for (const proof of refused) await expect(verifyDeviceProof(ctx, proof)).rejects.toMatchObject({ code: 'AUTH_FAILED' });
  });
});
