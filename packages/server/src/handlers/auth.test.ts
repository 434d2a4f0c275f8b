// Authentication racing a removal (SPEC REVOKE-1, TEMP-1, EXPIRY-1), against a real in-memory
// SQLite store and a real signature: a device removed while its signature is being checked must
// not end up with a registered socket that no removal notice will ever close.
import { create } from '@bufbuild/protobuf';
import { signDeviceChallenge } from '@pairwise/crypto/device-auth';
import { generateEd25519KeyPair } from '@pairwise/crypto/ed25519';
import { decodeServerFrame, encodeClientFrame } from '@pairwise/protocol/frames';
import { PROTOCOL_VERSION } from '@pairwise/protocol/version';
import { AuthenticateSchema } from '@pairwise/protocol/wire';
import type { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { removeDevice } from '../device-removal.js';
import type { Store } from '../store/store.js';
import { accountFixture, closeAccountFixtures } from '../test-support/account-fixture.js';
import { Connection } from '../ws/connection.js';
import { authenticate } from './auth.js';

/** An open socket that swallows what is sent. */
const openSocket = { readyState: 1, OPEN: 1, send: () => {}, close: () => {}, once: () => {} } as unknown as WebSocket;
/** A request scope whose after-response tasks are dropped (these tests look at the registration). */
const scope = { afterResponse: () => {} };

afterEach(closeAccountFixtures);

/**
 * A server context whose account has a companion with a real signing key. `removeOnLookUp`
 * removes the companion (as the phone would) right after authentication first reads it.
 */
async function setUp(removeOnLookUp: boolean) {
  const keys = await generateEd25519KeyPair();
  const { ctx, clock, ids } = await accountFixture({
    companionSigningKey: keys.publicKey,
    wrap: (inner, { companion }, context) => {
      const store = Object.create(inner) as Store;
      let removed = false;
      store.getDevice = async (deviceId) => {
        const found = await inner.getDevice(deviceId);
        if (removeOnLookUp && !removed && found !== null && deviceId === companion) {
          removed = true;
          expect(await removeDevice(context(), found, 'expiry')).toBe('removed');
        }
        return found;
      };
      return store;
    },
  });
  const connection = new Connection(openSocket, ctx, { ipAddress: '192.0.2.7', userAgent: '' });
  const { nonce } = connection.issueChallenge();
  const clientTime = clock.now();
  const challenge = { origin: ctx.config.publicOrigin, nonce, accountId: 'alice', deviceId: ids.companion, clientTime };
  const signature = await signDeviceChallenge(keys.privateKey, challenge);
  const body = create(AuthenticateSchema, { accountId: 'alice', deviceId: ids.companion, clientTime, signature, protocolVersion: PROTOCOL_VERSION });
  return { ctx, connection, body, companionId: ids.companion };
}

describe('[REVOKE-1] a device removed while it authenticates', () => {
  it('a device that is still there is signed in and registered', async () => {
    const { ctx, connection, body, companionId } = await setUp(false);
    expect((await authenticate(connection, body, scope)).case).toBe('authenticated');
    expect(ctx.hub.isOnline(companionId)).toBe(true);
  });

  it('is told LOGGED_OUT and not left registered when the removal finished during the signature check', async () => {
    const { ctx, connection, body, companionId } = await setUp(true);
    await expect(authenticate(connection, body, scope)).rejects.toMatchObject({ code: 'LOGGED_OUT' });
    expect(await ctx.store.getDevice(companionId)).toBeNull();
    expect(ctx.hub.isOnline(companionId)).toBe(false);
    expect(connection.device).toBeNull();
  });
});

describe('[AUTH-4] one authentication at a time per socket', () => {
  it('refuses a second Authenticate while the first is still being checked, and signs in once', async () => {
    const { ctx, connection, body, companionId } = await setUp(false);
    const [first, second] = await Promise.allSettled([authenticate(connection, body, scope), authenticate(connection, body, scope)]);
    expect(first).toMatchObject({ status: 'fulfilled', value: { case: 'authenticated' } });
    expect(second).toMatchObject({ status: 'rejected', reason: { code: 'ALREADY_AUTHENTICATED' } });
    expect(ctx.hub.connectionsOf(companionId)).toEqual([connection]);
  });
});

describe('[AUTH-4] a failing request does not drop another request\'s follow-up work', () => {
  it('an Authenticate refused while the first is finishing still leaves inbox delivery started', async () => {
    const keys = await generateEd25519KeyPair();
    const inboxReads: string[] = [];
    let interject: (() => Promise<void>) | null = null;
    const { ctx, clock, ids } = await accountFixture({
      companionSigningKey: keys.publicKey,
      wrap: (inner) => {
        const store = Object.create(inner) as Store;
        // After authentication has queued the start of delivery, another request on the socket fails.
        store.touchDevice = async (deviceId, now) => {
          await interject?.();
          return inner.touchDevice(deviceId, now);
        };
        store.readInbox = (deviceId, afterSeq, limit) => {
          inboxReads.push(deviceId);
          return inner.readInbox(deviceId, afterSeq, limit);
        };
        return store;
      },
    });
    const sent: Uint8Array[] = [];
    const socket = { readyState: 1, OPEN: 1, send: (bytes: Uint8Array, done: () => void) => (sent.push(bytes), done()), close: () => {}, once: () => {} };
    const connection = new Connection(socket as unknown as WebSocket, ctx, { ipAddress: '192.0.2.7', userAgent: '' });
    const { nonce } = connection.issueChallenge();
    const clientTime = clock.now();
    const signature = await signDeviceChallenge(keys.privateKey, { origin: ctx.config.publicOrigin, nonce, accountId: 'alice', deviceId: ids.companion, clientTime });
    const body = { accountId: 'alice', deviceId: ids.companion, clientTime, signature, protocolVersion: PROTOCOL_VERSION };
    interject = async () => {
      interject = null;
      await connection.receive(encodeClientFrame({ requestId: 2, body: { case: 'authenticate', value: body } }), true);
    };
    await connection.receive(encodeClientFrame({ requestId: 1, body: { case: 'authenticate', value: body } }), true);
    const responses = sent.map((bytes) => decodeServerFrame(bytes)).filter((frame) => frame.body.case === 'response');
    expect(responses.map((frame) => (frame.body.case === 'response' ? (frame.body.value.error?.code ?? frame.body.value.result.case) : ''))).toEqual([
      'ALREADY_AUTHENTICATED',
      'authenticated',
    ]);
    expect(inboxReads).toContain(ids.companion);
  });
});
