import { describe, expect, it } from 'vitest';
import { bytesEqual, concatBytes, fromHex, fromUtf8, randomBytes, toHex, utf8, wipe } from './bytes.js';

describe('byte helpers', () => {
  it('hex round-trips and refuses bad digits', () => {
    expect(toHex(fromHex('00ff10AB'))).toBe('00ff10ab');
    expect(() => fromHex('0')).toThrow(RangeError);
    expect(() => fromHex('zz')).toThrow(RangeError);
  });

  it('compares, concatenates, wipes', () => {
    expect(bytesEqual(fromHex('0102'), fromHex('0102'))).toBe(true);
    expect(bytesEqual(fromHex('0102'), fromHex('0103'))).toBe(false);
    expect(bytesEqual(fromHex('0102'), fromHex('01'))).toBe(false);
    expect(toHex(concatBytes(fromHex('01'), fromHex(''), fromHex('0203')))).toBe('010203');
    const secret = fromHex('ffff');
    wipe(secret, null);
    expect(toHex(secret)).toBe('0000');
  });

  it('UTF-8 round-trips and refuses invalid sequences', () => {
    expect(fromUtf8(utf8('héllo ✓'))).toBe('héllo ✓');
    expect(() => fromUtf8(fromHex('c3'))).toThrow(TypeError);
  });

  it('random bytes fill large requests and differ between calls', () => {
    const big = randomBytes(70_000);
    expect(big.length).toBe(70_000);
    expect(big.subarray(66_000).some((b) => b !== 0)).toBe(true);
    expect(bytesEqual(randomBytes(32), randomBytes(32))).toBe(false);
    expect(() => randomBytes(-1)).toThrow(RangeError);
  });
});
