import { describe, expect, it } from 'vitest';
import { generateAccountIdentity } from './keys.js';
import { computeSafetyNumber, safetyNumberQrMatches } from './safety-number.js';

describe('[SAFETY-1] safety numbers', () => {
  it('are 60 digits and a QR payload, identical whichever side computes them', async () => {
    const [alice, bob] = await Promise.all([generateAccountIdentity(), generateAccountIdentity()]);
    const onAlice = await computeSafetyNumber(
      { accountId: 'alice', identityKey: alice.publicKey },
      { accountId: 'bob', identityKey: bob.publicKey },
    );
    const onBob = await computeSafetyNumber(
      { accountId: 'bob', identityKey: bob.publicKey },
      { accountId: 'alice', identityKey: alice.publicKey },
    );
    expect(onAlice.digits).toMatch(/^\d{60}$/);
    expect(onAlice.groups).toHaveLength(12);
    expect(onBob.digits).toBe(onAlice.digits);
    expect(safetyNumberQrMatches(onBob, onAlice.qrPayload)).toBe(true);
  });

  it('change when either identity key changes', async () => {
    const [alice, bob, mallory] = await Promise.all([
      generateAccountIdentity(),
      generateAccountIdentity(),
      generateAccountIdentity(),
    ]);
    const genuine = await computeSafetyNumber(
      { accountId: 'alice', identityKey: alice.publicKey },
      { accountId: 'bob', identityKey: bob.publicKey },
    );
    const intercepted = await computeSafetyNumber(
      { accountId: 'alice', identityKey: alice.publicKey },
      { accountId: 'bob', identityKey: mallory.publicKey },
    );
    expect(intercepted.digits).not.toBe(genuine.digits);
    expect(safetyNumberQrMatches(genuine, intercepted.qrPayload)).toBe(false);
    expect(safetyNumberQrMatches(genuine, 'not bytes' as never)).toBe(false);
  });
});
