import { describe, expect, it } from 'vitest';
import { fromUtf8, randomBytes, utf8 } from './bytes.js';
import {
  derivePasscodeKey,
  generateWrappedX25519KeyPair,
  newPasscodeKdfParams,
  PASSCODE_MIN_ITERATIONS,
  rewrapX25519PrivateKey,
  unwrapX25519PrivateKey,
} from './passcode-key.js';
import { openSealedBox, sealToPublicKey } from './sealed-box.js';

const BINDING = utf8('test binding');

describe('[LOCK-3] passcode-wrapped keys', () => {
  it('derive with PBKDF2-SHA256 and at least 600,000 iterations; fewer are refused', async () => {
    const params = newPasscodeKdfParams();
    expect(params.iterations).toBe(PASSCODE_MIN_ITERATIONS);
    expect(PASSCODE_MIN_ITERATIONS).toBeGreaterThanOrEqual(600_000);
    expect(params.salt.length).toBe(16);
    expect(() => newPasscodeKdfParams(100_000)).toThrow(RangeError);
    await expect(derivePasscodeKey('123456', { ...params, iterations: 599_999 })).rejects.toBeInstanceOf(RangeError);
    const kek = await derivePasscodeKey('123456', params);
    expect(kek.extractable).toBe(false);
    expect([...kek.usages].sort()).toEqual(['unwrapKey', 'wrapKey']);
  });

  it('unwrap only with the same passcode and salt, as a non-extractable key that opens what was sealed', async () => {
    const params = newPasscodeKdfParams();
    const kek = await derivePasscodeKey('correct horse', params);
    const pair = await generateWrappedX25519KeyPair(kek);
    expect(pair.privateKey.extractable).toBe(false);
    const sealed = await sealToPublicKey(pair.publicKey, BINDING, utf8('kept'));

    const again = await unwrapX25519PrivateKey(await derivePasscodeKey('correct horse', params), pair.publicKey, pair.wrapped);
    expect(again).not.toBeNull();
    expect(again!.extractable).toBe(false);
    const opened = await openSealedBox({ publicKey: pair.publicKey, privateKey: again! }, BINDING, sealed);
    expect(opened && fromUtf8(opened)).toBe('kept');

    expect(await unwrapX25519PrivateKey(await derivePasscodeKey('correct horsf', params), pair.publicKey, pair.wrapped)).toBeNull();
    const otherSalt = { ...params, salt: randomBytes(16) };
    expect(await unwrapX25519PrivateKey(await derivePasscodeKey('correct horse', otherSalt), pair.publicKey, pair.wrapped)).toBeNull();
    // Bound to its public key: presented with another, it does not unwrap.
    expect(await unwrapX25519PrivateKey(kek, randomBytes(32), pair.wrapped)).toBeNull();
    const changed = pair.wrapped.slice();
    changed[20] = (changed[20] as number) ^ 1;
    expect(await unwrapX25519PrivateKey(kek, pair.publicKey, changed)).toBeNull();
  });

  it('normalise the passcode (NFC) and move to a new passcode without changing the key pair', async () => {
    const params = newPasscodeKdfParams();
    const decomposed = 'cafe\u0301 123';
    const composed = 'caf\u00e9 123';
    const kek = await derivePasscodeKey(decomposed, params);
    const pair = await generateWrappedX25519KeyPair(kek);
    expect(await unwrapX25519PrivateKey(await derivePasscodeKey(composed, params), pair.publicKey, pair.wrapped)).not.toBeNull();

    const nextParams = newPasscodeKdfParams();
    const nextKek = await derivePasscodeKey('new passcode', nextParams);
    expect(await rewrapX25519PrivateKey(nextKek, nextKek, pair.publicKey, pair.wrapped)).toBeNull();
    const rewrapped = await rewrapX25519PrivateKey(kek, nextKek, pair.publicKey, pair.wrapped);
    expect(rewrapped).not.toBeNull();
    const sealed = await sealToPublicKey(pair.publicKey, BINDING, utf8('still mine'));
    const key = await unwrapX25519PrivateKey(nextKek, pair.publicKey, rewrapped!);
    const opened = await openSealedBox({ publicKey: pair.publicKey, privateKey: key! }, BINDING, sealed);
    expect(opened && fromUtf8(opened)).toBe('still mine');
    expect(await unwrapX25519PrivateKey(kek, pair.publicKey, rewrapped!)).toBeNull();
  });
});
