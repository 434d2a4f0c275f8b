import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from './bytes.js';
import { ByteReader, ByteWriter } from './encoding.js';
import { MalformedInputError } from './errors.js';

describe('[CRYPTO-5] canonical encoding', () => {
  it('writes length-prefixed big-endian fields and reads them back', () => {
    const bytes = new ByteWriter().u8(1).u32(0x01020304).u64(2 ** 40 + 5).bytes(fromHex('aabb')).string('é').finish();
    expect(toHex(bytes)).toBe('01' + '01020304' + '0000010000000005' + '00000002aabb' + '00000002c3a9');
    const reader = new ByteReader(bytes);
    expect([reader.u8(), reader.u32(), reader.u64(), toHex(reader.bytes()), reader.string()]).toEqual([
      1,
      0x01020304,
      2 ** 40 + 5,
      'aabb',
      'é',
    ]);
    reader.end();
  });

  it('keeps field boundaries: "ab"+"c" and "a"+"bc" encode differently', () => {
    const one = new ByteWriter().string('ab').string('c').finish();
    const two = new ByteWriter().string('a').string('bc').finish();
    expect(toHex(one)).not.toBe(toHex(two));
  });

  it('refuses truncation, trailing bytes, oversized fields and invalid UTF-8 as malformed', () => {
    expect(() => new ByteReader(fromHex('000000')).u32()).toThrow(MalformedInputError);
    expect(() => new ByteReader(fromHex('0001')).end()).toThrow(MalformedInputError);
    expect(() => new ByteReader(fromHex('ffffffff')).bytes()).toThrow(MalformedInputError);
    expect(() => new ByteReader(fromHex('00000001ff')).string()).toThrow(MalformedInputError);
    expect(() => new ByteReader(fromHex('ffffffffffffffff')).u64()).toThrow(MalformedInputError);
    const reader = new ByteReader(utf8('x'));
    reader.u8();
    expect(() => reader.u8()).toThrow(/truncated/);
  });

  it('[CRYPTO-3] refuses out-of-range values when writing', () => {
    expect(() => new ByteWriter().u8(256)).toThrow(RangeError);
    expect(() => new ByteWriter().u32(-1)).toThrow(RangeError);
    expect(() => new ByteWriter().u64(2 ** 53)).toThrow(RangeError);
    expect(() => new ByteWriter().fixed(new Uint8Array(3), 4)).toThrow(RangeError);
  });
});
