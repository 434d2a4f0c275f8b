// The sweeper's expiry (SPEC EXPIRY-1, EXPIRY-2) against a real in-memory SQLite store. The idle
// lists are read once per sweep and removals follow one by one, so a device that became active in
// between (the phone opened, the computer back on another node) must be read again and kept.
import { randomBytes } from 'node:crypto';
import { DAY_MS } from '@pairwise/protocol/limits';
import type { FastifyBaseLogger } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { InProcessBus } from './bus/in-process-bus.js';
import { AdjustableClock } from './clock.js';
import { parseConfig } from './config.js';
import type { ServerContext } from './context.js';
import { openSqliteStore } from './store/open-sqlite-store.js';
import type { DeviceRow, Store } from './store/store.js';
import { sweep } from './sweeper.js';
import { Hub } from './ws/hub.js';

const random = (length: number): Uint8Array => new Uint8Array(randomBytes(length));
const silent = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} } as unknown as FastifyBaseLogger;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function device(kind: 'primary' | 'companion', now: number): DeviceRow {
  const deviceId = randomBytes(16).toString('hex');
  const base = { deviceId, accountId: 'alice', kind, signingKey: random(32), agreementKey: random(32), name: kind };
  return { ...base, linkedAt: now, lastActiveAt: now, temporary: false, userAgent: '', network: '', disconnectedAt: null };
}

/** Alice's phone and one computer, both last active `idleDays` ago; `wrap` may race the sweep. */
async function setUp(idleDays: number, wrap: (store: Store, ids: { primary: string; companion: string }) => Store) {
  const store = await openSqliteStore(':memory:');
  const clock = new AdjustableClock();
  const now = clock.now();
  const list = () => ({ body: random(100), signature: random(64) });
  const preKeys = { signedPreKey: null, pqPreKey: null, oneTimePreKeys: [] };
  const primary = device('primary', now);
  const account = { accountId: 'alice', identityKey: random(32), deviceList: list(), deviceListVersion: 1, createdAt: now };
  expect(await store.createAccount({ account, device: primary, preKeys })).toBe('created');
  const companion = device('companion', now);
  const tokenHash = random(32);
  const { deviceId, signingKey, agreementKey } = companion;
  await store.createPendingLink({ tokenHash, createdAt: now, expiresAt: now + 60_000, ipAddress: '', userAgent: '', deviceName: 'companion', temporary: false, deviceId, signingKey, agreementKey, preKeys });
  expect(await store.linkCompanion({ tokenHash, now, accountId: 'alice', expectedListVersion: 1, newList: list(), maxCompanions: 4, device: companion })).toBe('linked');
  clock.advance(idleDays * DAY_MS);
  const hub = new Hub();
  const bus = new InProcessBus();
  const ids = { primary: primary.deviceId, companion: companion.deviceId };
  const ctx: ServerContext = { config: parseConfig({}), store: wrap(store, ids), bus, clock, hub, log: silent };
  hub.attach(ctx);
  closers.push(async () => {
    hub.detach();
    await bus.close();
    await store.close();
  });
  return { ctx, store, ids };
}

/** The store as it is, or one where `touch` becomes active right after `method` listed it. */
function racing(method: 'listInactiveCompanions' | 'listUnusedPrimaries', touch: 'primary' | 'companion' | null) {
  return (inner: Store, ids: { primary: string; companion: string }): Store => {
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
