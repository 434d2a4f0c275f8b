// A hostile client against the real server process cannot grow its memory without bound
// (SPEC LIMIT-1, LIMIT-2): pushes stop at the socket's send buffer, a device holds a bounded number
// of sockets, and frames that are not Pairwise frames, or far too many, close the socket. Memory is
// the server's resident set, read from /proc while the attack runs; a well-behaved client on the
// same server is still served.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { MemoryStore } from '@pairwise/client/memory-store';
import { CLOSE_BAD_FRAMES, CLOSE_NOT_READING, CLOSE_RATE_EXCEEDED, CLOSE_TOO_MANY_CONNECTIONS } from '@pairwise/protocol/errors';
import { MAX_CONTENT_BYTES, MAX_SOCKETS_PER_DEVICE } from '@pairwise/protocol/limits';
import { encodeClientFrame } from '@pairwise/protocol/frames';
import { describe, expect, it } from 'vitest';
import { RawConnection } from './raw-connection.js';
import type { ServerProcess } from './server-process.js';
import { useServerProcess } from './test-support/use-server-process.js';
import { withServerDatabase } from './test-support/server-database.js';
import { createPrimary, eventually, linkCompanion, reopen } from './test-clients.js';

let server: ServerProcess;
useServerProcess({ get: () => server, set: (started) => (server = started) });

const MIB = 1024 * 1024;

/** The server's resident set size, bytes. */
function rss(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!line?.[1]) throw new Error('no VmRSS');
  return Number(line[1]) * 1024;
}

/** Rows waiting in a device's inbox on the server. */
function waitingRows(deviceId: string): number {
  return (withServerDatabase(server, (db) => db.prepare('select count(*) as n from inbox where device_id = ?').get(deviceId)) as { n: number }).n;
}

/** A fresh pair of accounts that message each other, proving the server still serves others. */
async function wellBehavedExchange(): Promise<void> {
  const a = await createPrimary(server, `calm_${randomBytes(4).toString('hex')}`);
  const b = await createPrimary(server, `calm_${randomBytes(4).toString('hex')}`);
  const received: string[] = [];
  b.on('message', (message) => received.push(message.text));
  await a.sendText(b.accountId, 'still served');
  await eventually(() => received.includes('still served'), 10_000, 'the well-behaved message');
  await a.close();
  await b.close();
}

describe('[LIMIT-1] inbox pushes respect back-pressure', () => {
  it('a device with 1,000 rows of 64 KiB, opened again and again and never read, holds a bounded share of memory', async () => {
    const ownerStore = new MemoryStore();
    const owner = await createPrimary(server, 'hoarder', ownerStore);
    const laptopStore = new MemoryStore();
    const laptop = await linkCompanion(server, owner, { store: laptopStore });
    const laptopId = laptop.deviceId;
    await laptop.close();
    await owner.close();

    // The account's own phone fills its laptop's inbox: its own traffic, which no quota holds back.
    const sender = await RawConnection.open(server);
    expect((await sender.authenticateAs(ownerStore, server.origin)).error).toBeUndefined();
    const content = new Uint8Array(randomBytes(MAX_CONTENT_BYTES));
    for (let batch = 0; batch < 10; batch++) {
      const ids = Array.from({ length: 100 }, () =>
        sender.sendRequest({
          case: 'sendMessage',
          value: { clientMessageId: new Uint8Array(randomBytes(16)), recipientAccountId: 'hoarder', envelopes: [{ deviceId: laptopId, content }] },
        }),
      );
      for (const id of ids) expect((await sender.response(id, 30_000)).error).toBeUndefined();
      // Half a second of the server's clock refills the sender's rate allowance for the next 100.
      await server.advanceClock(500);
    }
    sender.close();

    const before = rss(server.pid);
    // Eight opens of the same device, none of which reads: only the newest MAX_SOCKETS_PER_DEVICE stay.
    const sockets: RawConnection[] = [];
    for (let i = 0; i < 8; i++) {
      const socket = await RawConnection.open(server);
      expect((await socket.authenticateAs(laptopStore, server.origin)).error).toBeUndefined();
      socket.stopReading();
      sockets.push(socket);
    }
    // Give the pumps time to push everything they would push (64 MiB each, unbounded).
    let peak = rss(server.pid);
    for (let i = 0; i < 20; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      peak = Math.max(peak, rss(server.pid));
    }
    await wellBehavedExchange();
    const growth = peak - before;
    // Unbounded, four sockets took 4 x 64 MiB; bounded, each holds about PUSH_BUFFER_BYTES plus one
    // batch read from the store.
    expect(growth).toBeLessThan(120 * MIB);
    // The four oldest were closed by the server as the newer ones signed in; the newest are open.
    for (const socket of sockets) socket.socket.resume();
    for (const socket of sockets.slice(0, 8 - MAX_SOCKETS_PER_DEVICE)) expect(await socket.closed(15_000)).toBeGreaterThan(0);
    expect(sockets.slice(8 - MAX_SOCKETS_PER_DEVICE).every((socket) => socket.closeCode === null)).toBe(true);
    for (const socket of sockets) socket.close();
  }, 120_000);
});

describe('[LIMIT-2] an honest device is never taken for a flood', () => {
  it('a device back to 1,500 waiting rows acknowledges them in batches: all collected on one connection', async () => {
    const ownerStore = new MemoryStore();
    const owner = await createPrimary(server, 'returning', ownerStore);
    const laptopStore = new MemoryStore();
    const laptop = await linkCompanion(server, owner, { store: laptopStore });
    const laptopId = laptop.deviceId;
    await laptop.close();
    await owner.close();
    const sender = await RawConnection.open(server);
    expect((await sender.authenticateAs(ownerStore, server.origin)).error).toBeUndefined();
    // Rows the laptop cannot read (no session): it refuses each and acknowledges it all the same (RECEIVE-1).
    for (let batch = 0; batch < 15; batch++) {
      const ids = Array.from({ length: 100 }, () =>
        sender.sendRequest({
          case: 'sendMessage',
          value: { clientMessageId: new Uint8Array(randomBytes(16)), recipientAccountId: 'returning', envelopes: [{ deviceId: laptopId, content: new Uint8Array(randomBytes(64)) }] },
        }),
      );
      for (const id of ids) expect((await sender.response(id, 30_000)).error).toBeUndefined();
      // Half a second of the server's clock refills the sender's rate allowance for the next 100.
      await server.advanceClock(500);
    }
    sender.close();
    const back = await reopen(server, laptopStore);
    const states: string[] = [];
    back.on('connection', ({ state }) => states.push(state));
    await eventually(() => waitingRows(laptopId) === 0, 30_000, 'every row collected');
    expect(states).not.toContain('offline');
    await back.close();
  }, 60_000);
});

describe('[LIMIT-1] sockets per device', () => {
  it('a fifth socket of one device closes the oldest with 4005; the device stays served on the rest', async () => {
    const store = new MemoryStore();
    await (await createPrimary(server, 'many_tabs', store)).close();
    const sockets: RawConnection[] = [];
    for (let i = 0; i <= MAX_SOCKETS_PER_DEVICE; i++) {
      const socket = await RawConnection.open(server);
      expect((await socket.authenticateAs(store, server.origin)).result.case).toBe('authenticated');
      sockets.push(socket);
    }
    expect(await sockets[0]!.closed(5000)).toBe(CLOSE_TOO_MANY_CONNECTIONS);
    for (const socket of sockets.slice(1)) expect((await socket.request({ case: 'getSecurity', value: {} })).result.case).toBe('security');
    for (const socket of sockets) socket.close();
  });
});

describe('[LIMIT-2] frames that are not Pairwise frames, and floods, close the socket', () => {
  it('2,000,000 one-byte frames from a socket that never reads: it is closed with 4006 and memory stays bounded', async () => {
    const before = rss(server.pid);
    const raw = await RawConnection.open(server);
    raw.stopReading();
    const garbage = new Uint8Array([0xff]);
    for (let i = 0; i < 2_000_000 && raw.closeCode === null; i++) {
      raw.sendRaw(garbage);
      // Let the socket drain to the kernel now and then, as a real flood over the network would.
      if (i % 20_000 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    raw.socket.resume();
    expect(await raw.closed(20_000)).toBe(CLOSE_BAD_FRAMES);
    expect(rss(server.pid) - before).toBeLessThan(100 * MIB);
    await wellBehavedExchange();
  }, 120_000);

  it('well-formed frames far past the rate limit from a socket that never reads: closed with 4007', async () => {
    const raw = await RawConnection.open(server);
    raw.stopReading();
    const ping = encodeClientFrame({ requestId: 1, body: { case: 'ping', value: {} } });
    for (let i = 0; i < 100_000 && raw.closeCode === null; i++) {
      raw.sendRaw(ping);
      if (i % 5000 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    raw.socket.resume();
    expect(await raw.closed(20_000)).toBe(CLOSE_RATE_EXCEEDED);
    await wellBehavedExchange();
  }, 60_000);

  it('a peer that asks and never reads is cut off once 4 MiB of answers wait for it', async () => {
    const store = new MemoryStore();
    await (await createPrimary(server, 'never_reads', store)).close();
    // A long security log makes every answer about 20 KB.
    withServerDatabase(server, (db) => {
      const insert = db.prepare(
        "insert into security_events (account_id, at, kind, device_id, device_name, actor, network) values ('never_reads', ?, 'device-removed', '', ?, 'phone', '')",
      );
      for (let i = 0; i < 250; i++) insert.run(Date.now() - i, 'A laptop with a rather long name to fill the answer');
    });
    const raw = await RawConnection.open(server);
    expect((await raw.authenticateAs(store, server.origin)).error).toBeUndefined();
    raw.stopReading();
    const before = rss(server.pid);
    // Within the rate limit (a burst, then under 200 a second): nothing but the unread answers can close it.
    for (let i = 0; i < 2000 && raw.socket.readyState === raw.socket.OPEN; i++) {
      raw.sendRequest({ case: 'getSecurityLog', value: {} });
      if (i >= 350) await new Promise((resolve) => setTimeout(resolve, 6));
    }
    raw.socket.resume();
    // The close frame waits behind the unread answers, so the peer may see the socket cut (1006).
    expect([CLOSE_NOT_READING, 1006]).toContain(await raw.closed(20_000));
    expect(rss(server.pid) - before).toBeLessThan(100 * MIB);
    await wellBehavedExchange();
  }, 60_000);

  it('an undecodable frame counts against the rate limit and is answered BAD_FRAME until the socket is closed', async () => {
    const raw = await RawConnection.open(server);
    raw.sendRaw(new Uint8Array([0xff]));
    const first = await raw.next((frame) => frame.body.case === 'response');
    expect(first.body.case === 'response' && first.body.value.error?.code).toBe('BAD_FRAME');
    for (let i = 0; i < 20; i++) raw.sendRaw(new Uint8Array([0xff]));
    expect(await raw.closed(5000)).toBe(CLOSE_BAD_FRAMES);
  });
});
