// HKDF-SHA256 against RFC 5869 appendix A (the SHA-256 cases) and Wycheproof hkdf_sha256_test.json.
import { describe, expect, it } from 'vitest';
import wycheproof from '../test-vectors/wycheproof/hkdf_sha256_test.json';
import { fromHex, toHex } from './bytes.js';
import { hkdfSha256 } from './hkdf.js';
import { flatten, type WycheproofTest } from './test-support/wycheproof.js';

const range = (from: number, to: number): string =>
  Array.from({ length: to - from + 1 }, (_, i) => (from + i).toString(16).padStart(2, '0')).join('');

// RFC 5869 appendix A.1, A.2 and A.3.
const RFC5869 = [
  {
    name: 'A.1 basic',
    ikm: '0b'.repeat(22),
    salt: range(0x00, 0x0c),
    info: range(0xf0, 0xf9),
    length: 42,
    okm: '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
  },
  {
    name: 'A.2 longer inputs and outputs',
    ikm: range(0x00, 0x4f),
    salt: range(0x60, 0xaf),
    info: range(0xb0, 0xff),
    length: 82,
    okm: 'b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87',
  },
  {
    name: 'A.3 zero-length salt and info',
    ikm: '0b'.repeat(22),
    salt: '',
    info: '',
    length: 42,
    okm: '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
  },
];

describe('[CRYPTO-1] HKDF-SHA256, RFC 5869 appendix A', () => {
  it.each(RFC5869)('$name', async (vector) => {
    const okm = await hkdfSha256(fromHex(vector.ikm), fromHex(vector.salt), fromHex(vector.info), vector.length);
    expect(toHex(okm)).toBe(vector.okm);
  });
});

interface HkdfTest extends WycheproofTest {
  readonly ikm: string;
  readonly salt: string;
  readonly info: string;
  readonly size: number | string;
  readonly okm: string;
}

describe('[CRYPTO-1] HKDF-SHA256, Wycheproof', () => {
  const cases = flatten<object, HkdfTest>(wycheproof as never);

  it('has the whole file', () => {
    expect(cases.length).toBe(86);
  });

  it.each(cases)('$name', async ({ test }) => {
    const run = hkdfSha256(fromHex(test.ikm), fromHex(test.salt), fromHex(test.info), Number(test.size));
    if (test.result === 'invalid') {
      // The only invalid cases ask for more than 255 * HashLen bytes: a caller error.
      await expect(run).rejects.toBeInstanceOf(RangeError);
    } else {
      expect(toHex(await run)).toBe(test.okm);
    }
  });
});

describe('[CRYPTO-3] HKDF misuse', () => {
  it('refuses lengths outside 1..8160 and non-byte inputs, naming the argument', async () => {
    await expect(hkdfSha256(new Uint8Array(32), new Uint8Array(0), new Uint8Array(0), 0)).rejects.toThrow(RangeError);
    await expect(hkdfSha256(new Uint8Array(32), new Uint8Array(0), new Uint8Array(0), 8161)).rejects.toThrow(RangeError);
    await expect(hkdfSha256('ikm' as never, new Uint8Array(0), new Uint8Array(0), 32)).rejects.toThrow(/ikm/);
  });
});
