// Integration: log out over HTTP, whose answer tells the browser to clear the site's data. The
// server trusts a "proxy" at 127.0.0.1 (TRUSTED_PROXIES), so that requests from there can come on
// behalf of any address through X-Forwarded-For; requests from another loopback address
// (127.0.0.2 and up: all of 127/8 is this machine on Linux) are that address itself.
import { Agent, request } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { signDeviceChallenge } from '@pairwise/crypto/device-auth';
import { StoreTable } from '@pairwise/client/client-store';
import type { StoredIdentity } from '@pairwise/client/identity';
import { MemoryStore } from '@pairwise/client/memory-store';
import { fromBase64Url, toBase64Url } from '@pairwise/protocol/base64url';
import type { ServerProcess } from './server-process.js';
import { createPrimary, eventually, linkCompanion } from './test-clients.js';
import { useServerProcess } from './test-support/use-server-process.js';

let server: ServerProcess;
useServerProcess({ get: () => server, set: (started) => (server = started) }, { env: { TRUSTED_PROXIES: '127.0.0.1' } });

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

/** Where a challenge request comes from: a loopback address of its own, or via the trusted proxy. */
interface Requester {
  readonly localAddress?: string;
  readonly forwardedFor?: string;
}

interface ChallengeAnswer {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly body: { nonce?: string; code?: string; message?: string };
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });
afterAll(() => agent.destroy());

/** GET /api/challenge as `from`, over Node's http (fetch cannot choose its local address). */
function challengeAs(from: Requester): Promise<ChallengeAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path: '/api/challenge',
        agent,
        ...(from.localAddress ? { localAddress: from.localAddress } : {}),
        headers: from.forwardedFor ? { 'x-forwarded-for': from.forwardedFor } : {},
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          const retryAfter = response.headers['retry-after'];
          resolve({ status: response.statusCode ?? 0, retryAfter, body: JSON.parse(text) as ChallengeAnswer['body'] });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** `count` challenge requests, 16 at a time; `from(i)` says who sends the i-th. Resolves to the answers in order. */
async function flood(count: number, from: (i: number) => Requester): Promise<ChallengeAnswer[]> {
  const answers: ChallengeAnswer[] = new Array<ChallengeAnswer>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      answers[i] = await challengeAs(from(i));
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return answers;
}

function nonceOf(answer: ChallengeAnswer): string {
  expect(answer.status).toBe(200);
  return answer.body.nonce!;
}

/**
 * Whether `nonce` was still pending, found by spending it on a connection signature: a pending
 * nonce gets as far as the signature check (AUTH_FAILED), a dropped one stops at CHALLENGE_EXPIRED.
 */
async function wasPending(store: MemoryStore, nonce: string): Promise<boolean> {
  const { response } = await signedLogOut(store, 'connect', nonce);
  const { code } = (await response.json()) as { code: string };
  expect(['AUTH_FAILED', 'CHALLENGE_EXPIRED']).toContain(code);
  return code === 'AUTH_FAILED';
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

  it('a flood of challenges from another address leaves a pending nonce usable', async () => {
    const alice = await createPrimary(server, 'alice_flood');
    const store = new MemoryStore();
    const laptop = await linkCompanion(server, alice, { store });
    const nonce = ((await (await fetch(`${base()}/api/challenge`)).json()) as { nonce: string }).nonce;
    // One client asking for far more challenges than the book holds in all, each claiming to be
    // someone else: 127.0.0.2 is no trusted proxy, so its X-Forwarded-For is not believed and all
    // of them count against its own few places (believed, they would fill the book: 429s).
    const answers = await flood(20_000, (i) => ({ localAddress: '127.0.0.2', forwardedFor: `198.51.${i >> 8}.${i & 0xff}` }));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    const { response } = await signedLogOut(store, 'log-out', nonce);
    expect(response.status).toBe(204);
    await eventually(async () => !(await alice.devices()).some((device) => device.deviceId === laptop.deviceId), 3000, 'removal');
  });

  it("a flood from one address drops only that address's oldest nonces", async () => {
    const alice = await createPrimary(server, 'alice_own_flood');
    const store = new MemoryStore();
    await linkCompanion(server, alice, { store });
    const neighbour = nonceOf(await challengeAs({ localAddress: '127.0.0.4' }));
    const first = nonceOf(await challengeAs({ localAddress: '127.0.0.3' }));
    for (const answer of await flood(995, () => ({ localAddress: '127.0.0.3' }))) nonceOf(answer);
    // The last five one after another, so that their order at the server is known (the flood's
    // parallel requests may be issued in any order).
    const later: string[] = [];
    for (let i = 0; i < 5; i++) later.push(nonceOf(await challengeAs({ localAddress: '127.0.0.3' })));
    expect(await wasPending(store, first)).toBe(false);
    // The address keeps its newest few.
    expect(await wasPending(store, later[0]!)).toBe(false);
    for (const nonce of later.slice(1)) expect(await wasPending(store, nonce)).toBe(true);
    expect(await wasPending(store, neighbour)).toBe(true);
  });

  it('one IPv6 host counts as its /64, however many addresses it takes from it', async () => {
    const alice = await createPrimary(server, 'alice_ipv6');
    const store = new MemoryStore();
    await linkCompanion(server, alice, { store });
    const sameHost = nonceOf(await challengeAs({ forwardedFor: '2001:db8:0:1::1' }));
    const otherHost = nonceOf(await challengeAs({ forwardedFor: '2001:db8:0:2::1' }));
    await flood(1000, (i) => ({ forwardedFor: `2001:db8:0:1:${(i + 2).toString(16)}::${i.toString(16)}` }));
    expect(await wasPending(store, sameHost)).toBe(false);
    expect(await wasPending(store, otherHost)).toBe(true);
  });

  // Last in the file: it leaves the book full and moves the server's clock.
  it('a book full of other addresses refuses new challenges with 429 and drops nobody', async () => {
    const alice = await createPrimary(server, 'alice_full');
    const store = new MemoryStore();
    const laptop = await linkCompanion(server, alice, { store });
    const nonce = ((await (await fetch(`${base()}/api/challenge`)).json()) as { nonce: string }).nonce;
    // 2,500 addresses with 4 each fill the book's 10,000 places.
    const filled = await flood(10_000, (i) => ({ forwardedFor: `198.18.${(i % 2500) >> 8}.${(i % 2500) & 0xff}` }));
    const refused = filled.filter((answer) => answer.status === 429).length;
    // Only this file's other nonces, still pending, push a few of these out of their place.
    expect(refused).toBeLessThan(20);
    const newcomer = await challengeAs({ forwardedFor: '192.0.2.200' });
    expect(newcomer.status).toBe(429);
    expect(newcomer.body).toMatchObject({ code: 'RATE_LIMITED' });
    expect(newcomer.body.message).toMatch(/challenges/);
    expect(Number(newcomer.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(newcomer.retryAfter)).toBeLessThanOrEqual(60);
    const { response } = await signedLogOut(store, 'log-out', nonce);
    expect(response.status).toBe(204);
    await eventually(async () => !(await alice.devices()).some((device) => device.deviceId === laptop.deviceId), 3000, 'removal');
    // Once the flood's nonces have expired, new challenges are issued again.
    await server.advanceClock(61_000);
    expect((await challengeAs({ forwardedFor: '192.0.2.200' })).status).toBe(200);
  });
});
