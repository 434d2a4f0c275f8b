import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord } from './record-codec.js';
import { StoreCorruptError } from './store-errors.js';

describe('record codec (sealed history records)', () => {
  it('round-trips every kind a history record holds, tag lookalikes and "__proto__" included', () => {
    const value = JSON.parse('{"__proto__": {"x": 1}}') as Record<string, unknown>;
    Object.assign(value, {
      text: 'ünïcødé 😀',
      numbers: [0, -1.5, Number.MAX_SAFE_INTEGER],
      flags: [true, false, null],
      bytes: Uint8Array.of(0, 255, 7),
      empty: new Uint8Array(0),
      nested: { deeper: [{ bytes: Uint8Array.of(1) }] },
      lookalike: { $bytes: 'AAAA', $object: { y: 2 } },
    });
    const decoded = decodeRecord(encodeRecord(value)) as Record<string, unknown>;
    expect(decoded).toEqual(value);
    expect(Object.getOwnPropertyDescriptor(decoded, '__proto__')?.value).toEqual({ x: 1 });
    expect(({} as { x?: unknown }).x).toBeUndefined();
    expect(decodeRecord(encodeRecord('just text'))).toBe('just text');
  });

  it('refuses what it cannot encode, and bytes it did not make', () => {
    expect(() => encodeRecord(new Map())).toThrow(TypeError);
    expect(() => decodeRecord(new TextEncoder().encode('{"bare": 1}'))).toThrow(StoreCorruptError);
    expect(() => decodeRecord(new TextEncoder().encode('{"$bytes": "%%%"}'))).toThrow(StoreCorruptError);
    expect(() => decodeRecord(Uint8Array.of(0xff, 0xfe))).toThrow(StoreCorruptError);
  });
});
