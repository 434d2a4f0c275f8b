import { describe, expect, it } from 'vitest';
import { StoreTable } from './client-store.js';
import { assertKey, assertPrefix, assertStorableValue, assertTable } from './store-arguments.js';

describe('store arguments', () => {
  it('names the table, key and path of a value that cannot be stored', () => {
    expect(() => assertStorableValue(StoreTable.Sessions, 'peer/1', { ratchet: { skipped: [1, new Map()] } })).toThrow(
      'value for key "peer/1" in table sessions cannot be stored: value["ratchet"]["skipped"][1] is a Map',
    );
    expect(() => assertStorableValue(StoreTable.Meta, 'k', undefined)).toThrow('the value is undefined');
  });

  it('accepts a value that is shared but not cyclic', () => {
    const shared = { a: 1 };
    expect(() => assertStorableValue(StoreTable.Meta, 'k', [shared, shared, { shared }])).not.toThrow();
  });

  it('names the argument on misuse', () => {
    expect(() => assertTable('tables')).toThrow(/^table must be one of identity, prekeys/);
    expect(() => assertKey(1)).toThrow('key must be a string; got number');
    expect(() => assertPrefix(null)).toThrow('prefix must be a string when given; got null');
    expect(() => assertPrefix(undefined)).not.toThrow();
  });
});
