/**
 * For the server's unit tests: a real in-memory SQLite store holding one account, "alice", with
 * her primary and one linked companion, and a server context (hub, in-process bus, adjustable
 * clock) around it, so that handlers and housekeeping run as they do in the server process.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { expect } from 'vitest';
import { InProcessBus } from '../bus/in-process-bus.js';
import { AdjustableClock } from '../clock.js';
import { parseConfig } from '../config.js';
import type { ServerContext } from '../context.js';
import { openSqliteStore } from '../store/open-sqlite-store.js';
import type { DeviceRow, Store } from '../store/store.js';
import { Hub } from '../ws/hub.js';
import { AckWriter } from '../ack-writer.js';
import { createGuards } from '../guards.js';
import { Metrics } from '../metrics.js';

/** The fixture's device ids. */
export interface FixtureIds {
  readonly primary: string;
  readonly companion: string;
}

/** How the account is made. */
export interface AccountFixtureOptions {
  /** The companion's signing key (random bytes by default: enough where nothing verifies it). */
  readonly companionSigningKey?: Uint8Array;
  /** Link the companion as a temporary session, disconnected at link time. */
  readonly temporary?: boolean;
  /** A store the context uses instead of the real one, e.g. one that races the code under test. */
  readonly wrap?: (inner: Store, ids: FixtureIds, context: () => ServerContext) => Store;
}

/** A made account. */
export interface AccountFixture {
  readonly ctx: ServerContext;
  /** The real store (the context's may be wrapped). */
  readonly store: Store;
  readonly clock: AdjustableClock;
  readonly ids: FixtureIds;
}

const random = (length: number): Uint8Array => new Uint8Array(randomBytes(length));
const silent = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} } as unknown as FastifyBaseLogger;
const open: (() => Promise<void>)[] = [];

function device(kind: 'primary' | 'companion', now: number, signingKey: Uint8Array, temporary: boolean): DeviceRow {
  return {
    deviceId: randomBytes(16).toString('hex'),
    accountId: 'alice',
    kind,
    signingKey,
    agreementKey: random(32),
    name: kind,
    linkedAt: now,
    lastActiveAt: now,
    temporary,
    userAgent: '',
    network: '',
    disconnectedAt: temporary ? now : null,
    attestation: kind === 'primary' ? random(64) : null,
  };
}

/** Makes the account and its context; `closeAccountFixtures` (in afterEach) closes them. */
export async function accountFixture(options: AccountFixtureOptions = {}): Promise<AccountFixture> {
  const store = await openSqliteStore(':memory:');
  const clock = new AdjustableClock();
  const now = clock.now();
  const temporary = options.temporary ?? false;
  const list = () => ({ body: random(100), signature: random(64) });
  const preKeys = () => ({ signedPreKey: null, pqPreKey: null, oneTimePreKeys: [], pqOneTimePreKeys: [] });
  const primary = device('primary', now, random(32), false);
  const account = { accountId: 'alice', identityKey: random(32), deviceList: list(), deviceListVersion: 1, deviceListExpiresAt: now + 365 * 86_400_000, createdAt: now };
  expect(await store.createAccount({ account, device: primary, preKeys: preKeys() })).toBe('created');
  const companion = device('companion', now, options.companionSigningKey ?? random(32), temporary);
  const tokenHash = random(32);
  const { deviceId, signingKey, agreementKey } = companion;
  await store.createPendingLink({
    tokenHash,
    createdAt: now,
    expiresAt: now + 60_000,
    ipAddress: '192.0.2.7',
    userAgent: '',
    deviceName: companion.name,
    temporary,
    deviceId,
    signingKey,
    agreementKey,
    preKeys: preKeys(),
  });
  const linked = await store.linkCompanion({ tokenHash, now, accountId: 'alice', expectedListVersion: 1, newList: list(), newListExpiresAt: now + 365 * 86_400_000, maxCompanions: 4, device: companion });
  expect(linked).toBe('linked');

  const ids = { primary: primary.deviceId, companion: companion.deviceId };
  const hub = new Hub();
  const bus = new InProcessBus();
  const context = (): ServerContext => ctx;
  const config = parseConfig({});
  const ctx: ServerContext = { config, store: options.wrap?.(store, ids, context) ?? store, bus, clock, hub, guards: createGuards(config, clock), acks: new AckWriter(store, silent), log: silent, metrics: new Metrics({ node: 'test', processMetrics: false }) };
  hub.attach(ctx);
  open.push(async () => {
    hub.detach();
    await bus.close();
    await store.close();
  });
  return { ctx, store, clock, ids };
}

/** Closes every fixture made so far. */
export async function closeAccountFixtures(): Promise<void> {
  for (const close of open.splice(0)) await close();
}
