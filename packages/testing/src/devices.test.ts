// Integration: linking rules, device removal and revocation, device-list changes.
import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '@pairwise/client/client-events';
import { LinkRequest } from '@pairwise/client/link-request';
import { STORE_TABLES } from '@pairwise/client/client-store';
import { MemoryStore } from '@pairwise/client/memory-store';
import { StoreClosedError } from '@pairwise/client/store-errors';
import { PairwiseClient } from '@pairwise/client/pairwise-client';
import { RequestError } from '@pairwise/client/errors';
import { decodeLinkQr, encodeLinkQr } from '@pairwise/protocol/link-qr';
import type { ServerProcess } from './server-process.js';
import { useServerProcess } from './test-support/use-server-process.js';
import { connectOptions, createPrimary, eventually, linkCompanion } from './test-clients.js';

let server: ServerProcess;
useServerProcess({ get: () => server, set: (started) => (server = started) }, { env: { MAX_COMPANIONS: '4' } });

function texts(client: PairwiseClient): string[] {
  const seen: string[] = [];
  client.on('message', (message: ChatMessage) => seen.push(message.text));
  return seen;
}

/** Whether a store holds nothing any more (a wiped store is also closed: reading it fails so). */
async function isWiped(store: MemoryStore): Promise<boolean> {
  try {
    for (const table of STORE_TABLES) if ((await store.list(table)).length > 0) return false;
    return true;
  } catch (error) {
    return error instanceof StoreClosedError;
  }
}

/** A companion's link request, showing its first code. */
async function showCode(store = new MemoryStore()) {
  const request = new LinkRequest({ ...connectOptions(server, store), deviceName: 'Test browser' });
  const qr = request.once('qr');
  await request.start();
  return { request, qr: (await qr).text, store };
}

describe('[REVOKE-1] [REVOKE-2] removing a companion', () => {
  it('closes its socket within a second, it receives nothing more, and its reconnect is refused', async () => {
    const alice = await createPrimary(server, 'alice_rm');
    const bob = await createPrimary(server, 'bob_rm');
    const store = new MemoryStore();
    const laptop = await linkCompanion(server, alice, { store });
    const seen = texts(laptop);
    await bob.sendText('alice_rm', 'before');
    await eventually(() => seen.length === 1, 5000, 'message before removal');

    const loggedOut = laptop.once('logged-out');
    const started = Date.now();
    await alice.removeDevice(laptop.deviceId);
    const { reason } = await loggedOut;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(reason).toBe('removed');
    // It wiped itself: nothing of the device is left in its store.
    expect(await isWiped(store)).toBe(true);

    await bob.sendText('alice_rm', 'after');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen).toEqual(['before']);
    expect((await alice.devices()).map((device) => device.deviceId)).not.toContain(laptop.deviceId);
  });

  it('a removed device that comes back (copied state) is told "logged out" and wipes itself', async () => {
    const alice = await createPrimary(server, 'alice_back');
    const store = new MemoryStore();
    const laptop = await linkCompanion(server, alice, { store });
    const copy = new MemoryStore();
    for (const table of ['identity', 'prekeys', 'sessions', 'contacts'] as const) {
      for (const [key, value] of await store.list(table)) await copy.put(table, key, value);
    }
    await laptop.close();
    await alice.removeDevice(laptop.deviceId);
    const revived = (await PairwiseClient.open(connectOptions(server, copy)))!;
    const { reason } = await revived.once('logged-out');
    expect(reason).toBe('removed');
    expect(await isWiped(copy)).toBe(true);
  });

  it('a companion that logs itself out is gone from the phone list and the phone re-signs its list', async () => {
    const alice = await createPrimary(server, 'alice_self');
    const store = new MemoryStore();
    const laptop = await linkCompanion(server, alice, { store });
    const bob = await createPrimary(server, 'bob_self');
    await bob.sendText('alice_self', 'hi');
    await laptop.logOut();
    expect(await isWiped(store)).toBe(true);
    await eventually(async () => !(await alice.devices()).some((device) => device.deviceId === laptop.deviceId), 3000, 'removal');
    // Bob can still reach Alice: the list he verifies and the server's devices agree again.
    const seen = texts(alice);
    await bob.sendText('alice_self', 'still here?');
    await eventually(() => seen.includes('still here?'), 5000, 'message after self log out');
  });
});

describe('[DEVICES-2] devices joining mid-conversation', () => {
  it('a device linked during a conversation is included from the next message', async () => {
    const alice = await createPrimary(server, 'alice_mid');
    const bob = await createPrimary(server, 'bob_mid');
    await alice.sendText('bob_mid', 'one');
    const tablet = await linkCompanion(server, bob);
    const seen = texts(tablet);
    await alice.sendText('bob_mid', 'two');
    await eventually(() => seen.includes('two'), 5000, 'message to the new device');
    expect(seen).not.toContain('one');
  });

  it('a sender holding a stale device list is corrected and succeeds', async () => {
    const alice = await createPrimary(server, 'alice_stale');
    const bob = await createPrimary(server, 'bob_stale');
    await alice.sendText('bob_stale', 'warm up'); // alice now holds bob's list with one device
    const first = await linkCompanion(server, bob);
    const second = await linkCompanion(server, bob);
    const logs = [texts(bob), texts(first), texts(second)];
    await alice.sendText('bob_stale', 'after the change');
    for (const log of logs) await eventually(() => log.includes('after the change'), 5000, 'corrected send');
  });
});

describe('[LINK-1] [LINK-2] [LINK-3] [LINK-4] link codes', () => {
  it('a code is accepted once: a replayed token is refused', async () => {
    const alice = await createPrimary(server, 'alice_replay');
    const { qr, request } = await showCode();
    const { approve, details } = await alice.inspectLink(qr);
    // The phone sees where the request comes from before it confirms.
    expect(details).toMatchObject({ deviceName: 'Test browser', ipAddress: '127.0.0.1', userAgent: 'Pairwise Node SDK' });
    expect(details.expiresAt - details.createdAt).toBeLessThanOrEqual(60_000);
    await approve();
    await expect(alice.inspectLink(qr)).rejects.toMatchObject({ code: 'LINK_TOKEN_INVALID' });
    request.cancel();
  });

  it('a code older than 60 seconds is refused', async () => {
    const alice = await createPrimary(server, 'alice_old');
    const { qr, request } = await showCode();
    request.cancel();
    await server.advanceClock(61_000);
    try {
      await expect(alice.inspectLink(qr)).rejects.toMatchObject({ code: 'LINK_TOKEN_INVALID' });
    } finally {
      // The clients' clocks stay behind; later authentications allow 60 s of skew, so undo.
      await server.stop();
      server = await server.restart();
    }
  });

  it('[LINK-5] a code for another server is refused before anything is sent', async () => {
    const alice = await createPrimary(server, 'alice_phish');
    const { qr, request } = await showCode();
    request.cancel();
    // The same code as a phishing page would relay it from another server.
    const foreign = encodeLinkQr({ ...decodeLinkQr(qr)!, origin: 'https://pairwise.example.net' });
    await expect(alice.inspectLink(foreign)).rejects.toMatchObject({ reason: 'wrong-origin' });
    await expect(alice.inspectLink('https://example.com/not-a-code')).rejects.toMatchObject({ reason: 'not-a-link-code' });
  });

  it('[DEVICES-3] the fifth companion is refused', async () => {
    const alice = await createPrimary(server, 'alice_five');
    for (let i = 0; i < 4; i++) await linkCompanion(server, alice);
    const { qr, request } = await showCode();
    const { approve } = await alice.inspectLink(qr);
    const refused = await approve().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RequestError);
    expect(refused).toMatchObject({ code: 'TOO_MANY_COMPANIONS' });
    request.cancel();
    expect((await alice.devices()).filter((device) => device.kind === 'companion')).toHaveLength(4);
  });

  it('only the primary can look up or approve link requests', async () => {
    const alice = await createPrimary(server, 'alice_role');
    const laptop = await linkCompanion(server, alice);
    const { qr, request } = await showCode();
    await expect(laptop.inspectLink(qr)).rejects.toMatchObject({ reason: 'not-primary' });
    request.cancel();
  });
});
