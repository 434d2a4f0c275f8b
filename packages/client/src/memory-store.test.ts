// The memory store against the ClientStore contract, in Node and again in Chromium (whose
// structured clone is the one IndexedDB uses).
import { describe, expect, it } from 'vitest';
import type { StoreTable } from './client-store.js';
import { MemoryStore } from './memory-store.js';
import { describeClientStoreContract } from './test-support/client-store-contract.js';

describeClientStoreContract('MemoryStore', () => Promise.resolve(new MemoryStore()), { persistent: false });

describe('MemoryStore', () => {
  it('does not need extractable keys', () => {
    expect(new MemoryStore().needsExtractableKeys).toBe(false);
  });

  it('answers misuse through a rejected promise, like the persistent stores', () => {
    const store = new MemoryStore();
    const result = store.get('nope' as StoreTable, 'k');
    expect(result).toBeInstanceOf(Promise);
    return expect(result).rejects.toBeInstanceOf(TypeError);
  });
});
