// The sweeper's expiry (SPEC EXPIRY-1, EXPIRY-2) against a real in-memory SQLite store. The idle
// lists are read once per sweep and removals follow one by one, so a device that became active in
// between (the phone opened, the computer back on another node) must be read again and kept.
import { DAY_MS } from '@pairwise/protocol/limits';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceRow, Store } from './store/store.js';
import { sweep } from './sweeper.js';
import { accountFixture, closeAccountFixtures, type FixtureIds } from './test-support/account-fixture.js';

afterEach(closeAccountFixtures);

/** Alice's phone and one computer, both last active `idleDays` ago; `wrap` may race the sweep. */
async function setUp(idleDays: number, wrap: (store: Store, ids: FixtureIds) => Store) {
  const fixture = await accountFixture({ wrap });
  fixture.clock.advance(idleDays * DAY_MS);
  return fixture;
}

/** The store as it is, or one where `touch` becomes active right after `method` listed it. */
function racing(method: 'listInactiveCompanions' | 'listUnusedPrimaries', touch: 'primary' | 'companion' | null) {
  return (inner: Store, ids: FixtureIds): Store => {
    if (touch === null) return inner;
    const store = Object.create(inner) as Store;
    store[method] = (async (now: number, which?: 'expire' | 'warn') => {
      const rows = await (inner[method] as (now: number, which?: 'expire' | 'warn') => Promise<DeviceRow[]>)(now, which);
      await inner.touchDevice(ids[touch], now);
      return rows;
    });
    return store;
  };
}

describe('[EXPIRY-2] a phone opened while the sweep runs keeps its computers', () => {
  it('removes the computers of a phone unused for 15 days (default policy 14)', async () => {
    const { ctx, store, ids } = await setUp(15, racing('listUnusedPrimaries', null));
    await sweep(ctx);
    expect(await store.getDevice(ids.companion)).toBeNull();
  });

  it('keeps them when the phone became active after the list was read', async () => {
    const { ctx, store, ids } = await setUp(15, racing('listUnusedPrimaries', 'primary'));
    await sweep(ctx);
    expect(await store.getDevice(ids.companion)).not.toBeNull();
  });
});

describe('[EXPIRY-1] a computer back while the sweep runs is not expired', () => {
  it('removes a computer inactive for 31 days (default policy 30)', async () => {
    const { ctx, store, ids } = await setUp(31, racing('listInactiveCompanions', null));
    await store.updateSecurity('alice', { phoneUnusedDays: 0 });
    await sweep(ctx);
    expect(await store.getDevice(ids.companion)).toBeNull();
  });

  it('keeps one that became active after the list was read', async () => {
    const { ctx, store, ids } = await setUp(31, racing('listInactiveCompanions', 'companion'));
    await store.updateSecurity('alice', { phoneUnusedDays: 0 });
    await sweep(ctx);
    expect(await store.getDevice(ids.companion)).not.toBeNull();
  });
});
