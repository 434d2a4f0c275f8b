import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareKeys, prefixUpperBound } from './key-order.js';

describe('prefixUpperBound', () => {
  it('increments the last code unit that is not U+FFFF', () => {
    expect(prefixUpperBound('chat1/')).toBe('chat10');
    expect(prefixUpperBound('a')).toBe('b');
    expect(prefixUpperBound('a\uffff')).toBe('b');
    expect(prefixUpperBound('ab\uffff\uffff')).toBe('ac');
  });

  it('has no bound for the empty prefix or one made only of U+FFFF', () => {
    expect(prefixUpperBound('')).toBeNull();
    expect(prefixUpperBound('\uffff\uffff')).toBeNull();
  });

  it('bounds exactly the keys that start with the prefix', () => {
    const unit = fc.constantFrom('a', 'b', '\u0000', '\ud83d', '\ude00', '\ufffe', '\uffff');
    const text = fc.array(unit, { maxLength: 4 }).map((units) => units.join(''));
    fc.assert(
      fc.property(text, text, (prefix, key) => {
        const upper = prefixUpperBound(prefix);
        const inRange = compareKeys(key, prefix) >= 0 && (upper === null || compareKeys(key, upper) < 0);
        expect(inRange).toBe(key.startsWith(prefix));
      }),
    );
  });
});

describe('compareKeys', () => {
  it('orders by UTF-16 code units, not by locale', () => {
    expect(['b', 'B', 'a', '\uffff', '😀', ''].sort(compareKeys)).toEqual(['', 'B', 'a', 'b', '😀', '\uffff']);
  });
});
