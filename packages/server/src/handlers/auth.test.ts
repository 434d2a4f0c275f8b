// Authentication racing a removal (SPEC REVOKE-1, TEMP-1, EXPIRY-1), against a real in-memory
// SQLite store and a real signature: a device removed while its signature is being checked must
// not end up with a registered socket that no removal notice will ever close.
import { randomBytes } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { signDeviceChallenge } from '@pairwise/crypto/device-auth';
import { generateEd25519KeyPair } from '@pairwise/crypto/ed25519';
import { PROTOCOL_VERSION } from '@pairwise/protocol/version';
import { AuthenticateSchema } from '@pairwise/protocol/wire';
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { InProcessBus } from '../bus/in-process-bus.js';
import { AdjustableClock } from '../clock.js';
import { parseConfig } from '../config.js';
import type { ServerContext } from '../context.js';
import { removeDevice } from '../device-removal.js';
import { openSqliteStore } from '../store/open-sqlite-store.js';
import type { DeviceRow, Store } from '../store/store.js';
import { Connection } from '../ws/connection.js';
import { Hub } from '../ws/hub.js';
import { authenticate } from './auth.js';

const random = (length: number): Uint8Array => new Uint8Array(randomBytes(length));
const silent = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} } as unknown as FastifyBaseLogger;
/** An open socket that swallows what is sent. */
const openSocket = { readyState: 1, OPEN: 1, send: () => {}, close: () => {} } as unknown as WebSocket;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/**
 * A server context whose account has a companion with a real signing key. `removeOnLookUp`
 * removes the companion (as the phone would) right after authentication first reads it.
 */
async function setUp(removeOnLookUp: boolean) {
  const inner = await openSqliteStore(':memory:');
  const clock = new AdjustableClock();
  const now = clock.now();
  const list = () => ({ body: random(100), signature: random(64) });
  const preKeys = () => ({ signedPreKey: null, pqPreKey: null, oneTimePreKeys: [] });
  const keys = await generateEd25519KeyPair();
  const row = (kind: 'primary' | 'companion', signingKey: Uint8Array): DeviceRow => ({
    deviceId: randomBytes(16).toString('hex'),
    accountId: 'alice',
    kind,
    signingKey,
    agreementKey: random(32),
    name: kind,
    linkedAt: now,
    lastActiveAt: now,
    temporary: false,
    userAgent: '',
    network: '',
    disconnectedAt: null,
  });
  const account = { accountId: 'alice', identityKey: random(32), deviceList: list(), deviceListVersion: 1, createdAt: now };
  expect(await inner.createAccount({ account, device: row('primary', random(32)), preKeys: preKeys() })).toBe('created');
  const companion = row('companion', keys.publicKey);
  const tokenHash = random(32);
  await inner.createPendingLink({
    tokenHash,
    createdAt: now,
    expiresAt: now + 60_000,
    ipAddress: '192.0.2.7',
    userAgent: '',
    deviceName: companion.name,
    temporary: false,
    deviceId: companion.deviceId,
    signingKey: companion.signingKey,
    agreementKey: companion.agreementKey,
    preKeys: preKeys(),
  });
  const linked = await inner.linkCompanion({ tokenHash, now, accountId: 'alice', expectedListVersion: 1, newList: list(), maxCompanions: 4, device: companion });
  expect(linked).toBe('linked');

  const store = Object.create(inner) as Store;
  let removed = false;
  store.getDevice = async (deviceId) => {
    const found = await inner.getDevice(deviceId);
    if (removeOnLookUp && !removed && found !== null && deviceId === companion.deviceId) {
      removed = true;
      expect(await removeDevice(ctx, found, 'expiry')).toBe('removed');
    }
    return found;
  };
  const hub = new Hub();
  const bus = new InProcessBus();
  const ctx: ServerContext = { config: parseConfig({}), store, bus, clock, hub, log: silent };
  hub.attach(ctx);
  closers.push(async () => {
    hub.detach();
    await bus.close();
    await inner.close();
  });

  const connection = new Connection(openSocket, ctx, { ipAddress: '192.0.2.7', userAgent: '' });
  const { nonce } = connection.issueChallenge();
  const clientTime = clock.now();
  const challenge = { origin: ctx.config.publicOrigin, nonce, accountId: 'alice', deviceId: companion.deviceId, clientTime };
  const signature = await signDeviceChallenge(keys.privateKey, challenge);
  const body = create(AuthenticateSchema, { accountId: 'alice', deviceId: companion.deviceId, clientTime, signature, protocolVersion: PROTOCOL_VERSION });
  return { ctx, connection, body, companionId: companion.deviceId };
}

describe('[REVOKE-1] a device removed while it authenticates', () => {
  it('a device that is still there is signed in and registered', async () => {
    const { ctx, connection, body, companionId } = await setUp(false);
    expect((await authenticate(connection, body)).case).toBe('authenticated');
    expect(ctx.hub.isOnline(companionId)).toBe(true);
  });

  it('is told LOGGED_OUT and not left registered when the removal finished during the signature check', async () => {
    const { ctx, connection, body, companionId } = await setUp(true);
    await expect(authenticate(connection, body)).rejects.toMatchObject({ code: 'LOGGED_OUT' });
    expect(await ctx.store.getDevice(companionId)).toBeNull();
    expect(ctx.hub.isOnline(companionId)).toBe(false);
    expect(connection.device).toBeNull();
  });
});
