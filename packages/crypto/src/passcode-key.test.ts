import { describe, expect, it } from 'vitest';
import { argon2id } from './argon2id.js';
import { fromUtf8, randomBytes, utf8 } from './bytes.js';
import {
  derivePasscodeKey,
  generateWrappedX25519KeyPair,
  newPasscodeKdfParams,
  PASSCODE_ARGON2ID_MIN_ITERATIONS,
  PASSCODE_ARGON2ID_MIN_MEMORY_KIB,
  PASSCODE_KDF,
  rewrapX25519PrivateKey,
  unwrapX25519PrivateKey,
  type Pbkdf2PasscodeParams,
} from './passcode-key.js';
import { openSealedBox, sealToPublicKey } from './sealed-box.js';
import { subtle } from './webcrypto.js';

const BINDING = utf8('test binding');

describe('[LOCK-3] passcode-wrapped keys', () => {
  it('derive with Argon2id, at least 64 MiB and 3 passes, one lane and a 16-byte salt; weaker costs are refused', async () => {
    const params = newPasscodeKdfParams();
    expect(params.kdf).toBe('argon2id');
    expect(params.memoryKiB).toBe(PASSCODE_ARGON2ID_MIN_MEMORY_KIB);
    expect(PASSCODE_ARGON2ID_MIN_MEMORY_KIB).toBeGreaterThanOrEqual(65_536);
    expect(params.iterations).toBe(PASSCODE_ARGON2ID_MIN_ITERATIONS);
    expect(PASSCODE_ARGON2ID_MIN_ITERATIONS).toBeGreaterThanOrEqual(3);
    expect(params.parallelism).toBe(1);
    expect(params.salt.length).toBe(16);
    expect(newPasscodeKdfParams().salt).not.toEqual(params.salt);
    expect(() => newPasscodeKdfParams({ memoryKiB: 32_768 })).toThrow(RangeError);
    expect(() => newPasscodeKdfParams({ iterations: 2 })).toThrow(/iterations/);
    await expect(derivePasscodeKey('correct horse', { ...params, memoryKiB: 65_535 })).rejects.toThrow(/memoryKiB/);
    await expect(derivePasscodeKey('correct horse', { ...params, iterations: 2 })).rejects.toBeInstanceOf(RangeError);
    await expect(derivePasscodeKey('correct horse', { ...params, salt: randomBytes(8) })).rejects.toBeInstanceOf(RangeError);
    await expect(derivePasscodeKey('correct horse', { ...params, kdf: 'scrypt' } as never)).rejects.toBeInstanceOf(TypeError);
    await expect(derivePasscodeKey('', params)).rejects.toBeInstanceOf(TypeError);
    const kek = await derivePasscodeKey('correct horse', params);
    expect(kek.extractable).toBe(false);
    expect(kek.algorithm.name).toBe('AES-GCM');
    expect([...kek.usages].sort()).toEqual(['unwrapKey', 'wrapKey']);
  });

  it('the key is Argon2id(NFC(passcode), salt) itself, imported as AES-256-GCM', async () => {
    // What the derivation must equal, computed apart: a key wrapped under the raw Argon2id output
    // unwraps with the derived key. A KDF quietly swapped (or a salt left out) would not.
    const params = newPasscodeKdfParams();
    const raw = await argon2id(utf8('caf\u00e9 123'), params.salt, params);
    const expected = await subtle.importKey('raw', raw, 'AES-GCM', false, ['wrapKey', 'unwrapKey']);
    const pair = await generateWrappedX25519KeyPair(expected);
    expect(await unwrapX25519PrivateKey(await derivePasscodeKey('cafe\u0301 123', params), pair.publicKey, pair.wrapped)).not.toBeNull();
  });

  it('still unwrap keys wrapped under PBKDF2-SHA256 (600,000 iterations or more), and refuse fewer', async () => {
    const legacy: Pbkdf2PasscodeParams = { kdf: PASSCODE_KDF.pbkdf2, salt: randomBytes(16), iterations: 600_000 };
    const pair = await generateWrappedX25519KeyPair(await derivePasscodeKey('correct horse', legacy));
    expect(await unwrapX25519PrivateKey(await derivePasscodeKey('correct horse', legacy), pair.publicKey, pair.wrapped)).not.toBeNull();
    await expect(derivePasscodeKey('correct horse', { ...legacy, iterations: 599_999 })).rejects.toBeInstanceOf(RangeError);
    // Moved to Argon2id, it opens under the new key only.
    const next = await derivePasscodeKey('correct horse', newPasscodeKdfParams());
    const rewrapped = await rewrapX25519PrivateKey(await derivePasscodeKey('correct horse', legacy), next, pair.publicKey, pair.wrapped);
    expect(await unwrapX25519PrivateKey(next, pair.publicKey, rewrapped!)).not.toBeNull();
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
