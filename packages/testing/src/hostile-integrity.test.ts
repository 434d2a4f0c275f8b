// What a hostile client did to the server's bookkeeping, and why it no longer can, against the
// real server process: the security log cannot be flushed by setting changes (SPEC SECLOG-3), one
// socket cannot authenticate twice at once (SPEC AUTH-4), and a clock that is not a number is no
// clock (SPEC AUTH-3).
import { signDeviceChallenge } from '@pairwise/crypto/device-auth';
import { StoreTable } from '@pairwise/client/client-store';
import type { StoredIdentity } from '@pairwise/client/identity';
import { MemoryStore } from '@pairwise/client/memory-store';
import { SECURITY_LOG_MAX_SETTING_EVENTS } from '@pairwise/protocol/limits';
import { PROTOCOL_VERSION } from '@pairwise/protocol/version';
import { describe, expect, it } from 'vitest';
import { RawConnection } from './raw-connection.js';
import type { ServerProcess } from './server-process.js';
import { useServerProcess } from './test-support/use-server-process.js';
import { createPrimary, linkCompanion } from './test-clients.js';

let server: ServerProcess;
useServerProcess({ get: () => server, set: (started) => (server = started) });

async function signedInPhone(username: string): Promise<{ raw: RawConnection; store: MemoryStore }> {
  const store = new MemoryStore();
  const phone = await createPrimary(server, username, store);
  await linkCompanion(server, phone).then((laptop) => laptop.close());
  await phone.close();
  const raw = await RawConnection.open(server);
  expect((await raw.authenticateAs(store, server.origin)).error).toBeUndefined();
  return { raw, store };
}

async function logKinds(raw: RawConnection): Promise<string[]> {
  const log = await raw.request({ case: 'getSecurityLog', value: {} });
  return log.result.case === 'securityLog' ? log.result.value.events.map((event) => event.kind) : [];
}

describe('[SECLOG-3] setting changes cannot flush the security log', () => {
  it('2 x 390 concurrent "turn on PIN" log one entry, and hundreds of setting changes later the link is still there', async () => {
    const { raw, store } = await signedInPhone('flusher');
    const second = await RawConnection.open(server);
    expect((await second.authenticateAs(store, server.origin)).error).toBeUndefined();
    const burst = [raw, second].flatMap((socket) =>
      Array.from({ length: 390 }, () => socket.response(socket.sendRequest({ case: 'setPin', value: { newPin: '482913', currentPin: '' } }), 60_000)),
    );
    const results = await Promise.all(burst);
    expect(results.filter((result) => result.error === undefined)).toHaveLength(1);
    const kinds = await logKinds(raw);
    expect(kinds.filter((kind) => kind === 'pin-enabled')).toHaveLength(1);
    expect(kinds).toContain('device-linked');

    // Settings that are not a run of one kind each make an entry: alternate them until they alone
    // would fill more than the page of 200 entries a phone is shown.
    let pin = '482913';
    for (let round = 0; round < 105; round++) {
      const next = round % 2 === 0 ? '705126' : '482913';
      expect((await raw.request({ case: 'setPin', value: { newPin: next, currentPin: pin } })).error).toBeUndefined();
      pin = next;
      const inactiveDays = round % 2 === 0 ? 7 : 30;
      expect((await raw.request({ case: 'setPolicies', value: { inactiveDays, phoneUnusedDays: 14 } })).error).toBeUndefined();
    }
    const after = await logKinds(raw);
    expect(after).toContain('device-linked');
    expect(after[0]).toBe('policies-changed');
    expect(after.filter((kind) => kind === 'policies-changed' || kind === 'pin-changed')).toHaveLength(SECURITY_LOG_MAX_SETTING_EVENTS);
    raw.close();
    second.close();
  }, 120_000);
});

describe('[AUTH-4] one authentication at a time per socket', () => {
  it('two authentications raced on one socket never both succeed', async () => {
    const store = new MemoryStore();
    await (await createPrimary(server, 'racer', store)).close();
    const identity = (await store.get<StoredIdentity>(StoreTable.Identity, 'self'))!;
    const sign = async (nonce: Uint8Array, clientTime: number) =>
      signDeviceChallenge(identity.device.signing.privateKey, {
        origin: server.origin,
        nonce,
        accountId: identity.accountId,
        deviceId: identity.deviceId,
        clientTime,
      });
    for (let round = 0; round < 10; round++) {
      const raw = await RawConnection.open(server);
      const first = await raw.request({ case: 'requestChallenge', value: {} });
      if (first.result.case !== 'challenge') throw new Error('no challenge');
      const firstTime = Date.now();
      const firstSignature = await sign(first.result.value.nonce, firstTime);
      const auth = { accountId: identity.accountId, deviceId: identity.deviceId, protocolVersion: PROTOCOL_VERSION };
      // The first authentication is on its way when the second challenge is asked for.
      const one = raw.sendRequest({ case: 'authenticate', value: { ...auth, clientTime: firstTime, signature: firstSignature } });
      const again = await raw.request({ case: 'requestChallenge', value: {} });
      if (again.result.case !== 'challenge') throw new Error('no second challenge');
      const secondTime = Date.now();
      const two = raw.sendRequest({ case: 'authenticate', value: { ...auth, clientTime: secondTime, signature: await sign(again.result.value.nonce, secondTime) } });
      const outcomes = [await raw.response(one), await raw.response(two)].map((response) => response.error?.code ?? response.result.case);
      expect(outcomes.filter((outcome) => outcome === 'authenticated')).toHaveLength(1);
      expect(outcomes).toContain('ALREADY_AUTHENTICATED');
      raw.close();
    }
  });
});

describe('[AUTH-3] a client time that is not a number', () => {
  it('NaN and Infinity are refused as CLOCK_SKEW before any signature is checked', async () => {
    const store = new MemoryStore();
    await (await createPrimary(server, 'timeless', store)).close();
    const identity = (await store.get<StoredIdentity>(StoreTable.Identity, 'self'))!;
    for (const clientTime of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const raw = await RawConnection.open(server);
      await raw.request({ case: 'requestChallenge', value: {} });
      // No signature can cover such a time; the clock check must refuse it on its own.
      const response = await raw.request({
        case: 'authenticate',
        value: { accountId: identity.accountId, deviceId: identity.deviceId, clientTime, signature: new Uint8Array(64), protocolVersion: PROTOCOL_VERSION },
      });
      expect(response.error?.code).toBe('CLOCK_SKEW');
      raw.close();
    }
  });
});
