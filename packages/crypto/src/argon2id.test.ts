// Argon2id (version 0x13) against the reference implementation's vectors: P-H-C/phc-winner-argon2,
// src/test.c, the "Test Argon2id version number: 13" cases (password and salt as ASCII, 32-byte
// tags). RFC 9106's own vector uses a secret and associated data, which this API does not take.
// The vectors run in Node and again in Chromium (the browser project), where companions derive.
import { describe, expect, it } from 'vitest';
import { ARGON2ID_MAX_MEMORY_KIB, argon2id } from './argon2id.js';
import { toHex, utf8 } from './bytes.js';

const REFERENCE = [
  { t: 2, m: 16, p: 1, password: 'password', salt: 'somesalt', tag: '09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7' },
  { t: 2, m: 8, p: 1, password: 'password', salt: 'somesalt', tag: '9dfeb910e80bad0311fee20f9c0e2b12c17987b4cac90c2ef54d5b3021c68bfe' },
  { t: 2, m: 8, p: 2, password: 'password', salt: 'somesalt', tag: '6d093c501fd5999645e0ea3bf620d7b8be7fd2db59c20d9fff9539da2bf57037' },
  { t: 1, m: 16, p: 1, password: 'password', salt: 'somesalt', tag: 'f6a5adc1ba723dddef9b5ac1d464e180fcd9dffc9d1cbf76cca2fed795d9ca98' },
  { t: 2, m: 16, p: 1, password: 'differentpassword', salt: 'somesalt', tag: '0b84d652cf6b0c4beaef0dfe278ba6a80df6696281d7e0d2891b817d8c458fde' },
  { t: 2, m: 16, p: 1, password: 'password', salt: 'diffsalt', tag: 'bdf32b05ccc42eb15d58fd19b1f856b113da1e9a5874fdcc544308565aa8141c' },
] as const;

describe('Argon2id', () => {
  it.each(REFERENCE)('matches the reference for t=$t, m=2^$m KiB, p=$p, $password / $salt', async ({ t, m, p, password, salt, tag }) => {
    const out = await argon2id(utf8(password), utf8(salt), { memoryKiB: 2 ** m, iterations: t, parallelism: p });
    expect(toHex(out)).toBe(tag);
  });

  it('refuses wrong types and impossible costs, naming the argument', async () => {
    const cost = { memoryKiB: 256, iterations: 1, parallelism: 1 };
    const salt = utf8('somesalt');
    await expect(argon2id('password' as unknown as Uint8Array, salt, cost)).rejects.toThrow(TypeError);
    await expect(argon2id(new Uint8Array(0), salt, cost)).rejects.toThrow(/password/);
    await expect(argon2id(utf8('password'), utf8('short'), cost)).rejects.toThrow(/salt/);
    await expect(argon2id(utf8('password'), salt, { ...cost, memoryKiB: 7 })).rejects.toThrow(/memoryKiB/);
    await expect(argon2id(utf8('password'), salt, { ...cost, memoryKiB: ARGON2ID_MAX_MEMORY_KIB + 1 })).rejects.toThrow(RangeError);
    await expect(argon2id(utf8('password'), salt, { ...cost, iterations: 0 })).rejects.toThrow(/iterations/);
    await expect(argon2id(utf8('password'), salt, { ...cost, parallelism: 1.5 })).rejects.toThrow(/parallelism/);
    await expect(argon2id(utf8('password'), salt, cost, 3)).rejects.toThrow(/length/);
  });
});
