import { describe, expect, it } from 'vitest';
import { AdminError } from './admin-error.js';
import { toPostgresValue } from './postgres-value.js';

describe('toPostgresValue', () => {
  it('passes bytes as a Buffer over the same bytes, integers as exact decimal strings, text and null as they are', () => {
    const bytes = new Uint8Array([0, 1, 2, 255]);
    const converted = toPostgresValue(bytes, 'bytea', 't.c');
    expect(Buffer.isBuffer(converted)).toBe(true);
    expect([...(converted as Buffer)]).toEqual([0, 1, 2, 255]);
    // 2^53 + 1: a Number would round it.
    expect(toPostgresValue(9_007_199_254_740_993n, 'bigint', 't.c')).toBe('9007199254740993');
    expect(toPostgresValue(1n, 'integer', 't.c')).toBe('1');
    expect(toPostgresValue('Chrome on Linux', 'text', 't.c')).toBe('Chrome on Linux');
    expect(toPostgresValue(null, 'bytea', 't.c')).toBeNull();
    expect(toPostgresValue(1n, 'boolean', 't.c')).toBe('true');
    expect(toPostgresValue(0n, 'boolean', 't.c')).toBe('false');
  });

  it('refuses a value of the wrong kind, naming the place and not the value', () => {
    const wrong: [unknown, string][] = [
      ['secret text', 'bytea'],
      [1.5, 'bigint'],
      [new Uint8Array([1]), 'text'],
      [2n, 'boolean'],
      [1n, 'jsonb'],
    ];
    for (const [value, type] of wrong) {
      let error: unknown;
      try {
        toPostgresValue(value, type, 'inbox.content, row 3');
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(AdminError);
      expect((error as Error).message).toContain('inbox.content, row 3');
      expect((error as Error).message).not.toContain('secret');
    }
  });
});
