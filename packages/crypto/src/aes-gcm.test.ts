// AES-GCM against Wycheproof aes_gcm_test.json.
import { describe, expect, it } from 'vitest';
import wycheproof from '../test-vectors/wycheproof/aes_gcm_test.json';
import { aesGcmDecrypt, aesGcmEncrypt, generateAesGcmKey, importAesGcmKey } from './aes-gcm.js';
import { concatBytes, fromHex, toHex, utf8 } from './bytes.js';
import { flatten, type WycheproofTest } from './test-support/wycheproof.js';

interface AeadGroup {
  readonly keySize: number;
  readonly ivSize: number;
  readonly tagSize: number;
}
interface AeadTest extends WycheproofTest {
  readonly key: string;
  readonly iv: string;
  readonly aad: string;
  readonly msg: string;
  readonly ct: string;
  readonly tag: string;
}

describe('[CRYPTO-1] AES-GCM, Wycheproof', () => {
  const cases = flatten<AeadGroup, AeadTest>(wycheproof as never);

  it('has the whole file, with many cases in our parameter set (128/256-bit keys, 96-bit nonces)', () => {
    expect(cases.length).toBe(316);
    const ours = cases.filter(({ group }) => group.keySize !== 192 && group.ivSize === 96);
    expect(ours.length).toBeGreaterThan(100);
    expect(ours.some(({ test }) => test.result === 'invalid')).toBe(true);
  });

  it.each(cases)('$name', async ({ group, test }) => {
    const key = fromHex(test.key);
    if (group.keySize === 192) {
      // Outside our parameter set by design (see aes-gcm.ts): refused, whatever the result.
      await expect(importAesGcmKey(key)).rejects.toBeInstanceOf(RangeError);
      return;
    }
    const cryptoKey = await importAesGcmKey(key);
    const iv = fromHex(test.iv);
    const aad = fromHex(test.aad);
    const sealed = concatBytes(fromHex(test.ct), fromHex(test.tag));
    if (group.ivSize !== 96) {
      // Likewise refused before reaching the platform, for encryption and decryption alike.
      await expect(aesGcmDecrypt(cryptoKey, iv, sealed, aad)).rejects.toBeInstanceOf(RangeError);
      await expect(aesGcmEncrypt(cryptoKey, iv, fromHex(test.msg), aad)).rejects.toBeInstanceOf(RangeError);
      return;
    }
    const opened = await aesGcmDecrypt(cryptoKey, iv, sealed, aad);
    if (test.result === 'valid') {
      expect(opened && toHex(opened)).toBe(test.msg);
      expect(toHex(await aesGcmEncrypt(cryptoKey, iv, fromHex(test.msg), aad))).toBe(toHex(sealed));
    } else {
      expect(opened).toBeNull();
    }
  });
});

describe('[CRYPTO-2] AES-GCM keys and misuse', () => {
  it('generated keys are non-extractable and round-trip', async () => {
    const key = await generateAesGcmKey();
    expect(key.extractable).toBe(false);
    const nonce = new Uint8Array(12).fill(1);
    const sealed = await aesGcmEncrypt(key, nonce, utf8('hello'), utf8('ad'));
    expect(await aesGcmDecrypt(key, nonce, sealed, utf8('ad'))).toEqual(utf8('hello'));
    expect(await aesGcmDecrypt(key, nonce, sealed, utf8('AD'))).toBeNull();
    expect(await aesGcmDecrypt(key, nonce, sealed.subarray(0, 15), utf8('ad'))).toBeNull();
  });

  it('names the argument on misuse', async () => {
    await expect(importAesGcmKey(new Uint8Array(24))).rejects.toThrow(/16 or 32 bytes/);
    const key = await generateAesGcmKey();
    await expect(aesGcmEncrypt(key, new Uint8Array(16), new Uint8Array(0))).rejects.toThrow(/nonce must be 12 bytes/);
  });
});
