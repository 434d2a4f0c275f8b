// A hostile client against the real server process cannot grow its memory without bound
// (SPEC LIMIT-1, LIMIT-2): pushes stop at the socket's send buffer, a device holds a bounded number
// of sockets, and frames that are not Pairwise frames, or far too many, close the socket. Memory is
// the server's resident set, read from /proc while the attack runs; a well-behaved client on the
// same server is still served.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { MemoryStore } from '@pairwise/client/memory-store';
import { CLOSE_BAD_FRAMES, CLOSE_RATE_EXCEEDED, CLOSE_TOO_MANY_CONNECTIONS } from '@pairwise/protocol/errors';
import { MAX_CONTENT_BYTES, MAX_SOCKETS_PER_DEVICE } from '@pairwise/protocol/limits';
import { encodeClientFrame } from '@pairwise/protocol/frames';
import { describe, expect, it } from 'vitest';
import { RawConnection } from './raw-connection.js';
import type { ServerProcess } from './server-process.js';
import { useServerProcess } from './test-support/use-server-process.js';
import { createPrimary, eventually, linkCompanion } from './test-clients.js';

let server: ServerProcess;
useServerProcess({ get: () => server, set: (started) => (server = started) });

const MIB = 1024 * 1024;

/** The server's resident set size, bytes. */
function rss(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!line?.[1]) throw new Error('no VmRSS');
  return Number(line[1]) * 1024;
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
    }
    sender.close();

    const before = rss(server.pid);
    // Eight opens of the same device, none of which reads: only MAX_SOCKETS_PER_DEVICE are let in.
    const sockets: RawConnection[] = [];
    const refusals: string[] = [];
    for (let i = 0; i < 8; i++) {
      const socket = await RawConnection.open(server);
      const response = await socket.authenticateAs(laptopStore, server.origin);
      if (response.error) {
        refusals.push(response.error.code);
        expect(await socket.closed()).toBe(CLOSE_TOO_MANY_CONNECTIONS);
      } else {
        socket.stopReading();
        sockets.push(socket);
      }
    }
    expect(sockets).toHaveLength(MAX_SOCKETS_PER_DEVICE);
    expect(refusals).toEqual(Array(8 - MAX_SOCKETS_PER_DEVICE).fill('TOO_MANY_CONNECTIONS'));
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
    for (const socket of sockets) socket.close();
  }, 120_000);
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

  it('an undecodable frame counts against the rate limit and is answered BAD_FRAME until the socket is closed', async () => {
    const raw = await RawConnection.open(server);
    raw.sendRaw(new Uint8Array([0xff]));
    const first = await raw.next((frame) => frame.body.case === 'response');
    expect(first.body.case === 'response' && first.body.value.error?.code).toBe('BAD_FRAME');
    for (let i = 0; i < 20; i++) raw.sendRaw(new Uint8Array([0xff]));
    expect(await raw.closed(5000)).toBe(CLOSE_BAD_FRAMES);
  });
});
