// Integration: log out over HTTP, whose answer tells the browser to clear the site's data.
import { describe, expect, it } from 'vitest';
import { signDeviceChallenge } from '@pairwise/crypto/device-auth';
import { StoreTable } from '@pairwise/client/client-store';
import type { StoredIdentity } from '@pairwise/client/identity';
import { MemoryStore } from '@pairwise/client/memory-store';
import { fromBase64Url, toBase64Url } from '@pairwise/protocol/base64url';
import type { ServerProcess } from './server-process.js';
import { createPrimary, eventually, linkCompanion } from './test-clients.js';
import { useServerProcess } from './test-support/use-server-process.js';

let server: ServerProcess;
useServerProcess({ get: () => server, set: (started) => (server = started) });

const base = () => `http://127.0.0.1:${server.port}`;

async function signedLogOut(store: MemoryStore, purpose: 'log-out' | 'connect' = 'log-out', nonceText?: string) {
  const identity = (await store.get<StoredIdentity>(StoreTable.Identity, 'self'))!;
  const nonce = nonceText ?? ((await (await fetch(`${base()}/api/challenge`)).json()) as { nonce: string }).nonce;
  const clientTime = Date.now();
  const signature = await signDeviceChallenge(identity.device.signing.privateKey, {
    origin: server.origin,
    nonce: fromBase64Url(nonce)!,
    accountId: identity.accountId,
    deviceId: identity.deviceId,
    clientTime,
    purpose,
  });
  const response = await fetch(`${base()}/api/logout`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ accountId: identity.accountId, deviceId: identity.deviceId, clientTime, nonce, signature: toBase64Url(signature) }),
  });
  return { response, nonce };
}

describe('[REVOKE-4] log out over HTTP', () => {
  it('answers 204 with Clear-Site-Data, removes the device and closes its sockets', async () => {
    const alice = await createPrimary(server, 'alice_http');
    const store = new MemoryStore();
    const laptop = await linkCompanion(server, alice, { store });
    const loggedOut = laptop.once('logged-out');
    const { response } = await signedLogOut(store);
    expect(response.status).toBe(204);
    expect(response.headers.get('clear-site-data')).toBe('"cache", "cookies", "storage"');
    expect(response.headers.get('cache-control')).toBe('no-store');
    await loggedOut;
    await eventually(async () => !(await alice.devices()).some((device) => device.deviceId === laptop.deviceId), 3000, 'removal');
  });

  it('refuses a connection signature, a reused nonce, and the primary', async () => {
    const aliceStore = new MemoryStore();
    const alice = await createPrimary(server, 'alice_http2', aliceStore);
    const store = new MemoryStore();
    await linkCompanion(server, alice, { store });
    const wrongPurpose = await signedLogOut(store, 'connect');
    expect(wrongPurpose.response.status).toBe(401);
    expect(await wrongPurpose.response.json()).toMatchObject({ code: 'AUTH_FAILED' });
    const reused = await signedLogOut(store, 'log-out', wrongPurpose.nonce);
    expect(await reused.response.json()).toMatchObject({ code: 'CHALLENGE_EXPIRED' });
    const primary = await signedLogOut(aliceStore);
    expect(primary.response.status).toBe(403);
    expect((await alice.devices()).length).toBe(2);
  });

  it('the SDK logs out over HTTP where fetch exists', async () => {
    const alice = await createPrimary(server, 'alice_http3');
    const laptop = await linkCompanion(server, alice);
    await laptop.logOut();
    await eventually(async () => !(await alice.devices()).some((device) => device.deviceId === laptop.deviceId), 3000, 'removal');
  });
});
