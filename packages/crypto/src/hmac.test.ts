// HMAC-SHA256 against Wycheproof hmac_sha256_test.json (full and truncated tags).
import { describe, expect, it } from 'vitest';
import wycheproof from '../test-vectors/wycheproof/hmac_sha256_test.json';
import { fromHex, toHex } from './bytes.js';
import { hmacSha256, hmacSha256Verify } from './hmac.js';
import { flatten, type WycheproofTest } from './test-support/wycheproof.js';

interface MacGroup {
  readonly tagSize: number;
}
interface MacTest extends WycheproofTest {
  readonly key: string;
  readonly msg: string;
  readonly tag: string;
}

describe('[CRYPTO-1] HMAC-SHA256, Wycheproof', () => {
  const cases = flatten<MacGroup, MacTest>(wycheproof as never);

  it('has the whole file', () => {
    expect(cases.length).toBe(174);
  });

  it.each(cases)('$name', async ({ group, test }) => {
    const key = fromHex(test.key);
    const msg = fromHex(test.msg);
    const tag = fromHex(test.tag);
    const computed = toHex((await hmacSha256(key, msg)).subarray(0, group.tagSize / 8));
    const verified = await hmacSha256Verify(key, msg, tag);
    if (test.result === 'valid') {
      expect(computed).toBe(test.tag);
      expect(verified).toBe(true);
    } else {
      expect(computed).not.toBe(test.tag);
      expect(verified).toBe(false);
    }
  });
});

describe('[CRYPTO-3] HMAC misuse and peer tags', () => {
  it('refuses tags shorter than 16 bytes and empty keys', async () => {
    const key = new Uint8Array(32).fill(7);
    const tag = await hmacSha256(key, new Uint8Array(0));
    expect(await hmacSha256Verify(key, new Uint8Array(0), tag.subarray(0, 15))).toBe(false);
    expect(await hmacSha256Verify(key, new Uint8Array(0), tag.subarray(0, 16))).toBe(true);
    await expect(hmacSha256(new Uint8Array(0), new Uint8Array(0))).rejects.toThrow(/key/);
  });
});
