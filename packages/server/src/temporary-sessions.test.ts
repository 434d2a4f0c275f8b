// The sweeper's part of temporary sessions (SPEC TEMP-1) against a real in-memory SQLite store:
// the list of gone devices is read once, then each is removed in turn, so a device that came back
// meanwhile (here or on another node) must be read again before it is removed.
import { randomBytes } from 'node:crypto';
import { TEMPORARY_SESSION_GRACE_MS } from '@pairwise/protocol/limits';
import type { FastifyBaseLogger } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { InProcessBus } from './bus/in-process-bus.js';
import { AdjustableClock } from './clock.js';
import { parseConfig } from './config.js';
import type { ServerContext } from './context.js';
import { openSqliteStore } from './store/open-sqlite-store.js';
import type { DeviceRow, Store } from './store/store.js';
import { removeGoneTemporaryDevices } from './temporary-sessions.js';
import { Hub } from './ws/hub.js';

const random = (length: number): Uint8Array => new Uint8Array(randomBytes(length));
const silent = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} } as unknown as FastifyBaseLogger;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function device(accountId: string, kind: 'primary' | 'companion', now: number, temporary: boolean): DeviceRow {
  return {
    deviceId: randomBytes(16).toString('hex'),
    accountId,
    kind,
    signingKey: random(32),
    agreementKey: random(32),
    name: kind,
    linkedAt: now,
    lastActiveAt: now,
    temporary,
    userAgent: '',
    network: '',
    disconnectedAt: temporary ? now : null,
  };
}

/** A server context on a fresh store, with an account whose temporary companion left 2 minutes ago. */
async function setUp(wrap: (store: Store, companionId: string) => Store = (store) => store) {
  const store = await openSqliteStore(':memory:');
  const clock = new AdjustableClock();
  const now = clock.now();
  const list = () => ({ body: random(100), signature: random(64) });
  const preKeys = () => ({ signedPreKey: null, pqPreKey: null, oneTimePreKeys: [] });
  const account = { accountId: 'alice', identityKey: random(32), deviceList: list(), deviceListVersion: 1, createdAt: now };
  expect(await store.createAccount({ account, device: device('alice', 'primary', now, false), preKeys: preKeys() })).toBe('created');
  const companion = device('alice', 'companion', now, true);
  const tokenHash = random(32);
  await store.createPendingLink({
    tokenHash,
    createdAt: now,
    expiresAt: now + 60_000,
    ipAddress: '192.0.2.7',
    userAgent: '',
    deviceName: companion.name,
    temporary: true,
    deviceId: companion.deviceId,
    signingKey: companion.signingKey,
    agreementKey: companion.agreementKey,
    preKeys: preKeys(),
  });
  const linked = await store.linkCompanion({ tokenHash, now, accountId: 'alice', expectedListVersion: 1, newList: list(), maxCompanions: 4, device: companion });
  expect(linked).toBe('linked');
  clock.advance(2 * TEMPORARY_SESSION_GRACE_MS);
  const hub = new Hub();
  const bus = new InProcessBus();
  const ctx: ServerContext = { config: parseConfig({}), store: wrap(store, companion.deviceId), bus, clock, hub, log: silent };
  hub.attach(ctx);
  closers.push(async () => {
    hub.detach();
    await bus.close();
    await store.close();
  });
  return { ctx, store, companionId: companion.deviceId };
}

describe('[TEMP-1] the sweeper removes temporary devices that are still gone', () => {
  it('removes a temporary device whose socket has been gone longer than the minute', async () => {
    const { ctx, store, companionId } = await setUp();
    await removeGoneTemporaryDevices(ctx, ctx.clock.now());
    expect(await store.getDevice(companionId)).toBeNull();
  });

  it('keeps one that came back after the sweep listed it (its row is read again before removal)', async () => {
    // Another node (or this one) authenticates the device right after the list was read.
    const { ctx, store, companionId } = await setUp((inner, id) => {
      const racing = Object.create(inner) as Store;
      racing.listGoneTemporaryDevices = async (before) => {
        const rows = await inner.listGoneTemporaryDevices(before);
        await inner.setDisconnectedAt(id, null);
        return rows;
      };
      return racing;
    });
    await removeGoneTemporaryDevices(ctx, ctx.clock.now());
    expect(await store.getDevice(companionId)).not.toBeNull();
  });
});
