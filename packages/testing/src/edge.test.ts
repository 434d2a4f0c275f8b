// Integration: the edge of the server. Bad input gets a clear error and loses nothing; roles and
// signatures are enforced whatever a client sends.
import { describe, expect, it } from 'vitest';
import { signDeviceChallenge } from '@pairwise/crypto/device-auth';
import { signDeviceList } from '@pairwise/crypto/device-list';
import { generateAccountIdentity, generateDeviceIdentity, publicIdentity } from '@pairwise/crypto/keys';
import { MemoryStore } from '@pairwise/client/memory-store';
import { StoreTable } from '@pairwise/client/client-store';
import type { StoredIdentity } from '@pairwise/client/identity';
import { CLOSE_AUTH_FAILED, CLOSE_UPDATE_REQUIRED } from '@pairwise/protocol/errors';
import { MIN_PROTOCOL_VERSION, PROTOCOL_VERSION } from '@pairwise/protocol/version';
import { MAX_FRAME_BYTES } from '@pairwise/protocol/limits';
import { RawConnection } from './raw-connection.js';
import type { ServerProcess } from './server-process.js';
import { useServerProcess } from './test-support/use-server-process.js';
import { createPrimary, eventually, linkCompanion } from './test-clients.js';

let server: ServerProcess;
useServerProcess({ get: () => server, set: (started) => (server = started) });

async function stillServes(): Promise<void> {
  const a = await createPrimary(server, `ok_${Math.floor(Math.random() * 1e9)}`);
  const b = await createPrimary(server, `ok_${Math.floor(Math.random() * 1e9)}`);
  const seen: string[] = [];
  b.on('message', (message) => seen.push(message.text));
  await a.sendText(b.accountId, 'still serving');
  await eventually(() => seen.includes('still serving'), 5000, 'delivery after bad input');
  await a.close();
  await b.close();
}

describe('[WIRE-1] malformed and oversized frames', () => {
  it('text frames and garbage bytes get BAD_FRAME, the socket stays usable, the server keeps serving', async () => {
    const raw = await RawConnection.open(server);
    raw.sendRaw('{"hello": "json"}');
    const first = await raw.next((frame) => frame.body.case === 'response');
    expect(first.body.case === 'response' && first.body.value.error?.code).toBe('BAD_FRAME');
    raw.sendRaw(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f));
    const second = await raw.next((frame) => frame.body.case === 'response');
    expect(second.body.case === 'response' && second.body.value.error?.code).toBe('BAD_FRAME');
    const pong = await raw.request({ case: 'ping', value: {} });
    expect(pong.error).toBeUndefined();
    raw.close();
    await stillServes();
  });

  it('an oversized frame closes that socket with 1009, and nobody else notices', async () => {
    const raw = await RawConnection.open(server);
    raw.sendRaw(new Uint8Array(MAX_FRAME_BYTES + 1));
    expect(await raw.closed()).toBe(1009);
    await stillServes();
  });

  it('requests before authentication are refused with NOT_AUTHENTICATED', async () => {
    const raw = await RawConnection.open(server);
    const response = await raw.request({ case: 'listDevices', value: {} });
    expect(response.error?.code).toBe('NOT_AUTHENTICATED');
    raw.close();
  });

  it('[WIRE-2] fields that fail the schema checks are named in a BAD_REQUEST', async () => {
    const raw = await RawConnection.open(server);
    const response = await raw.request({
      case: 'createLinkToken',
      value: { deviceId: 'not-hex', protocolVersion: PROTOCOL_VERSION },
    });
    expect(response.error?.code).toBe('BAD_REQUEST');
    expect(response.error?.message).toMatch(/device_id/);
    raw.close();
  });
});

describe('[AUTH-1] [AUTH-2] [AUTH-3] device authentication', () => {
  it('a signature by another key is refused and the socket closed', async () => {
    const alice = await createPrimary(server, 'alice_auth');
    const forged = new MemoryStore();
    const identity = (await (alice as unknown as { options: { store: MemoryStore } }).options.store.get<StoredIdentity>(StoreTable.Identity, 'self'))!;
    await forged.put(StoreTable.Identity, 'self', { ...identity, device: await generateDeviceIdentity() });
    const raw = await RawConnection.open(server);
    const response = await raw.authenticateAs(forged, server.origin);
    expect(response.error?.code).toBe('AUTH_FAILED');
    expect(await raw.closed()).toBe(CLOSE_AUTH_FAILED);
  });

  it('a nonce answers once: reusing it is refused even with a valid signature', async () => {
    const store = new MemoryStore();
    await createPrimary(server, 'alice_reuse', store);
    const identity = (await store.get<StoredIdentity>(StoreTable.Identity, 'self'))!;
    const raw = await RawConnection.open(server);
    const challenge = await raw.request({ case: 'requestChallenge', value: {} });
    const nonce = challenge.result.case === 'challenge' ? challenge.result.value.nonce : new Uint8Array(0);
    const answer = async (clientTime: number, origin = server.origin) => ({
      accountId: identity.accountId,
      deviceId: identity.deviceId,
      clientTime,
      protocolVersion: PROTOCOL_VERSION,
      signature: await signDeviceChallenge(identity.device.signing.privateKey, {
        origin,
        nonce,
        accountId: identity.accountId,
        deviceId: identity.deviceId,
        clientTime,
      }),
    });
    // A clock more than 60 s off is refused (and the nonce is spent by the attempt).
    const skewed = await raw.request({ case: 'authenticate', value: await answer(Date.now() - 120_000) });
    expect(skewed.error?.code).toBe('CLOCK_SKEW');
    const reused = await raw.request({ case: 'authenticate', value: await answer(Date.now()) });
    expect(reused.error?.code).toBe('CHALLENGE_EXPIRED');
    raw.close();
  });

  it('a signature for another origin is refused; a fresh challenge then authenticates', async () => {
    const store = new MemoryStore();
    await createPrimary(server, 'alice_nonce', store);
    const raw = await RawConnection.open(server);
    // The challenge pushed at connect was consumed by nobody; this answer uses a fresh one.
    expect((await raw.authenticateAs(store, 'https://phishing.example')).error?.code).toBe('AUTH_FAILED');
    const again = await RawConnection.open(server);
    expect((await again.authenticateAs(store, server.origin)).error).toBeUndefined();
    const reused = await again.request({ case: 'authenticate', value: { accountId: 'alice_nonce' } });
    expect(reused.error?.code).toBe('ALREADY_AUTHENTICATED');
    again.close();
  });
});

describe('[VERSION-1] protocol versions', () => {
  it('a client older than the minimum version is told to update and refused', async () => {
    const raw = await RawConnection.open(server);
    const response = await raw.request({
      case: 'authenticate',
      value: { accountId: 'anyone', deviceId: 'a'.repeat(32), clientTime: Date.now(), signature: new Uint8Array(64), protocolVersion: 0 },
    });
    expect(response.error?.code).toBe('UPDATE_REQUIRED');
    expect(await raw.closed()).toBe(CLOSE_UPDATE_REQUIRED);
  });

  it('every challenge states the server protocol version and the minimum it accepts', async () => {
    const raw = await RawConnection.open(server);
    const challenge = await raw.request({ case: 'requestChallenge', value: {} });
    expect(challenge.result.case === 'challenge' && challenge.result.value.protocolVersion).toBe(PROTOCOL_VERSION);
    expect(challenge.result.case === 'challenge' && challenge.result.value.minProtocolVersion).toBe(MIN_PROTOCOL_VERSION);
    raw.close();
  });
});

describe('[DEVICES-1] forged device lists and roles', () => {
  it('the server refuses a device list not signed by the account key', async () => {
    const store = new MemoryStore();
    const alice = await createPrimary(server, 'alice_forge', store);
    const raw = await RawConnection.open(server);
    await raw.authenticateAs(store, server.origin);
    const mallory = await generateAccountIdentity();
    const identity = (await store.get<StoredIdentity>(StoreTable.Identity, 'self'))!;
    const ghost = await generateDeviceIdentity();
    const forged = await signDeviceList(mallory.privateKey, {
      accountId: 'alice_forge',
      version: 2,
      issuedAt: Date.now(),
      expiresAt: Date.now() + 86_400_000,
      devices: [
        { deviceId: identity.deviceId, kind: 'primary', identity: publicIdentity(identity.device), linkedAt: 1 },
        { deviceId: 'f'.repeat(32), kind: 'companion', identity: publicIdentity(ghost), linkedAt: 2 },
      ],
    });
    const response = await raw.request({ case: 'updateDeviceList', value: { deviceList: forged } });
    expect(response.error?.code).toBe('INVALID_DEVICE_LIST');
    expect((await alice.devices()).length).toBe(1);
    raw.close();
  });

  it('[ROLES-1] a companion cannot remove devices or change the list', async () => {
    const alice = await createPrimary(server, 'alice_roles');
    const laptopStore = new MemoryStore();
    await linkCompanion(server, alice, { store: laptopStore });
    const raw = await RawConnection.open(server);
    await raw.authenticateAs(laptopStore, server.origin);
    const removal = await raw.request({ case: 'removeDevice', value: { deviceId: alice.deviceId } });
    expect(removal.error?.code).toBe('FORBIDDEN');
    const update = await raw.request({ case: 'updateDeviceList', value: {} });
    expect(update.error?.code).toBe('FORBIDDEN');
    raw.close();
  });
});
