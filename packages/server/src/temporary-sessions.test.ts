// The sweeper's part of temporary sessions (SPEC TEMP-1) against a real in-memory SQLite store:
// the list of gone devices is read once, then each is removed in turn, so a device that came back
// meanwhile (here or on another node) must be read again before it is removed.
import { TEMPORARY_SESSION_GRACE_MS } from '@pairwise/protocol/limits';
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from './store/store.js';
import { removeGoneTemporaryDevices } from './temporary-sessions.js';
import { accountFixture, closeAccountFixtures, type AccountFixtureOptions } from './test-support/account-fixture.js';

afterEach(closeAccountFixtures);

/** Alice's temporary companion, whose socket left 2 minutes ago. */
async function setUp(wrap?: AccountFixtureOptions['wrap']) {
  const fixture = await accountFixture({ temporary: true, ...(wrap ? { wrap } : {}) });
  fixture.clock.advance(2 * TEMPORARY_SESSION_GRACE_MS);
  return fixture;
}

describe('[TEMP-1] the sweeper removes temporary devices that are still gone', () => {
  it('removes a temporary device whose socket has been gone longer than the minute', async () => {
    const { ctx, store, ids } = await setUp();
    await removeGoneTemporaryDevices(ctx, ctx.clock.now());
    expect(await store.getDevice(ids.companion)).toBeNull();
  });

  it('keeps one that came back after the sweep listed it (its row is read again before removal)', async () => {
    // Another node (or this one) authenticates the device right after the list was read.
    const { ctx, store, ids } = await setUp((inner, { companion }) => {
      const racing = Object.create(inner) as Store;
      racing.listGoneTemporaryDevices = async (before) => {
        const rows = await inner.listGoneTemporaryDevices(before);
        await inner.setDisconnectedAt(companion, null);
        return rows;
      };
      return racing;
    });
    await removeGoneTemporaryDevices(ctx, ctx.clock.now());
    expect(await store.getDevice(ids.companion)).not.toBeNull();
  });
});
