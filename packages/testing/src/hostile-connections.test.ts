// Sockets that are not (yet) devices are bounded per address and in total, must authenticate in
// time, and only our own web app may open them from a browser (SPEC LIMIT-4, LIMIT-5, LIMIT-6):
// against the real server process, which trusts 127.0.0.1 as its proxy so that X-Forwarded-For
// stands for the many addresses of an attack.
import { readdirSync } from 'node:fs';
import { MemoryStore } from '@pairwise/client/memory-store';
import { LinkRequest } from '@pairwise/client/link-request';
import { CLOSE_AUTH_TIMEOUT } from '@pairwise/protocol/errors';
import { AUTH_DEADLINE_MS } from '@pairwise/protocol/limits';
import { describe, expect, it } from 'vitest';
import { RawConnection } from './raw-connection.js';
import type { ServerProcess } from './server-process.js';
import { useServerProcess } from './test-support/use-server-process.js';
import { connectOptions, createPrimary, eventually } from './test-clients.js';

const PER_ADDRESS = 10;
const TOTAL = 40;

let server: ServerProcess;
useServerProcess(
  { get: () => server, set: (started) => (server = started) },
  { env: { TRUSTED_PROXIES: '127.0.0.1', MAX_PENDING_CONNECTIONS_PER_ADDRESS: String(PER_ADDRESS), MAX_PENDING_CONNECTIONS: String(TOTAL) } },
);

const from = (address: string) => ({ 'x-forwarded-for': address });

/** Open file descriptors of the server process. */
function descriptors(): number {
  return readdirSync(`/proc/${server.pid}/fd`).length;
}

/** Signs in as the device in `store` from `address`; true when the server took it. */
async function deviceSignsIn(store: MemoryStore, address: string): Promise<boolean> {
  const attempt = await RawConnection.attempt(server, from(address));
  if (!('connection' in attempt)) return false;
  const response = await attempt.connection.authenticateAs(store, server.origin);
  attempt.connection.close();
  return response.result.case === 'authenticated';
}

describe('[LIMIT-4] pending sockets per address and in total', () => {
  it('of 200 idle sockets from one address only the allowance is let in; the rest are refused before the upgrade', async () => {
    const store = new MemoryStore();
    await (await createPrimary(server, 'steady', store)).close();
    const baseline = descriptors();
    const attempts = await Promise.all(Array.from({ length: 200 }, () => RawConnection.attempt(server, from('198.51.100.7'))));
    const opened = attempts.filter((attempt) => 'connection' in attempt);
    const refused = attempts.filter((attempt) => 'status' in attempt);
    expect(opened).toHaveLength(PER_ADDRESS);
    expect(refused.every((attempt) => attempt.status === 429)).toBe(true);
    expect(descriptors() - baseline).toBeLessThan(PER_ADDRESS + 20);
    // A device elsewhere signs in as always.
    expect(await deviceSignsIn(store, '203.0.113.9')).toBe(true);
    for (const attempt of opened) attempt.connection.close();
  });

  it('past the total, the oldest pending sockets make room (1013), and a device still gets in', async () => {
    const store = new MemoryStore();
    await (await createPrimary(server, 'arriving', store)).close();
    const flood: RawConnection[] = [];
    for (let address = 1; address <= 6; address++) {
      for (let i = 0; i < PER_ADDRESS; i++) flood.push(await RawConnection.open(server, from(`192.0.2.${address}`)));
    }
    await eventually(() => flood.filter((socket) => socket.closeCode !== null).length >= flood.length - TOTAL, 5000, 'evictions');
    const evicted = flood.filter((socket) => socket.closeCode !== null);
    expect(evicted.length).toBe(flood.length - TOTAL);
    expect(evicted.every((socket) => socket.closeCode === 1013)).toBe(true);
    // The first ones in were the ones to go.
    expect(flood.slice(0, evicted.length).every((socket) => socket.closeCode === 1013)).toBe(true);
    expect(await deviceSignsIn(store, '203.0.113.10')).toBe(true);
    for (const socket of flood) socket.close();
  });
});

describe('[LIMIT-5] a socket must authenticate within the deadline', () => {
  it('an idle socket that answers pings is closed with 4004; a companion showing link codes may wait for the phone', async () => {
    const phone = await createPrimary(server, 'patient');
    const idle = await RawConnection.open(server, from('198.51.100.20'));
    const request = new LinkRequest({ ...connectOptions(server), deviceName: 'Slow scanner' });
    const firstCode = request.once('qr');
    const linked = request.once('linked');
    await request.start();
    const { text } = await firstCode;
    expect(await idle.closed(AUTH_DEADLINE_MS + 5000)).toBe(CLOSE_AUTH_TIMEOUT);
    // Past the deadline the link socket is still the one holding the first code: the phone can
    // approve the code it scanned then.
    const { approve } = await phone.inspectLink(text);
    await approve();
    await linked;
    await phone.close();
  }, 30_000);
});

describe('[LIMIT-6] only our own web app may open sockets from a browser', () => {
  it('an upgrade from another Origin is refused with 403; our origin and none are let in', async () => {
    expect(await RawConnection.attempt(server, { origin: 'https://evil.example' })).toEqual({ status: 403 });
    expect(await RawConnection.attempt(server, { origin: `${server.origin}.evil.example` })).toEqual({ status: 403 });
    const own = await RawConnection.attempt(server, { origin: server.origin });
    expect('connection' in own).toBe(true);
    const none = await RawConnection.attempt(server);
    expect('connection' in none).toBe(true);
    for (const attempt of [own, none]) if ('connection' in attempt) attempt.connection.close();
  });
});
