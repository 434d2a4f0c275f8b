// Integration: temporary sessions, "Keep me signed in" unticked (SPEC TEMP-1). The server removes
// such a device once its socket has been gone for 60 s: on its own timer, and in the sweep driven
// here by the fake clock; a device back within the minute stays.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { LinkRequest } from '@pairwise/client/link-request';
import { MemoryStore } from '@pairwise/client/memory-store';
import { PairwiseClient } from '@pairwise/client/pairwise-client';
import type { ClientStore } from '@pairwise/client/client-store';
import { RawConnection } from './raw-connection.js';
import type { ServerProcess } from './server-process.js';
import { TestClock } from './test-support/test-clock.js';
import { useServerProcess } from './test-support/use-server-process.js';
import { connectOptions, createPrimary, eventually, linkCompanion } from './test-clients.js';

let server: ServerProcess;
useServerProcess({ get: () => server, set: (started) => (server = started) });
const clock = new TestClock(() => server);

/** When the server recorded the device's last socket as closed (null: connected, or not temporary). */
function disconnectedAt(deviceId: string): number | null | undefined {
  const db = new Database(join(server.dataDir, 'pairwise.sqlite'), { readonly: true });
  try {
    const row = db.prepare('select disconnected_at from devices where device_id = ?').get(deviceId) as { disconnected_at: number | null } | undefined;
    return row?.disconnected_at;
  } finally {
    db.close();
  }
}

/** Closes the client and waits until the server has recorded its socket as gone. */
async function closeTab(client: PairwiseClient): Promise<void> {
  await client.close();
  await eventually(() => typeof disconnectedAt(client.deviceId) === 'number', 3000, 'the server to see the socket go');
}

async function listed(phone: PairwiseClient, deviceId: string): Promise<boolean> {
  return (await phone.devices()).some((device) => device.deviceId === deviceId);
}

async function open(store: ClientStore): Promise<PairwiseClient> {
  const client = await PairwiseClient.open(connectOptions(server, store, clock.now));
  if (client === null) throw new Error('no identity in the store');
  return client;
}

async function copyOf(store: MemoryStore): Promise<MemoryStore> {
  const copy = new MemoryStore();
  for (const table of ['identity', 'prekeys', 'sessions', 'contacts'] as const) {
    for (const [key, value] of await store.list(table)) await copy.put(table, key, value);
  }
  return copy;
}

describe('[TEMP-1] temporary sessions end when their tab has been gone a minute', () => {
  it('is shown as temporary, stays 59 s after its socket closed, is gone at 61 s, and the phone is told', async () => {
    const aliceStore = new MemoryStore();
    const alice = await createPrimary(server, 'alice_temp', aliceStore, clock.now);
    const kioskStore = new MemoryStore();
    const request = new LinkRequest({ ...connectOptions(server, kioskStore, clock.now), deviceName: 'Library computer', temporary: true });
    const qr = request.once('qr');
    const linked = request.once('linked');
    await request.start();
    const { details, approve } = await alice.inspectLink((await qr).text);
    expect(details.temporary).toBe(true);
    await approve();
    await linked;
    const kiosk = await open(kioskStore);
    await kiosk.ready();
    const shown = (await alice.devices()).find((device) => device.deviceId === kiosk.deviceId);
    expect(shown).toMatchObject({ temporary: true, userAgent: 'Pairwise Node SDK', network: '127.0.0.0/24', name: 'Library computer' });
    expect(disconnectedAt(kiosk.deviceId)).toBeNull();

    const copy = await copyOf(kioskStore);
    const phoneSocket = await RawConnection.open(server);
    await phoneSocket.authenticateAs(aliceStore, server.origin);
    await closeTab(kiosk);

    await clock.advance(59_000);
    await server.sweep();
    expect(await listed(alice, kiosk.deviceId)).toBe(true);

    await clock.advance(2_000);
    await server.sweep();
    expect(await listed(alice, kiosk.deviceId)).toBe(false);
    const told = await phoneSocket.next((frame) => frame.body.case === 'deviceRemoved');
    expect(told.body.value).toMatchObject({ deviceId: kiosk.deviceId, reason: 'expired' });
    phoneSocket.close();
    const removal = (await alice.securityLog()).find((entry) => entry.kind === 'device-removed');
    expect(removal).toMatchObject({ deviceId: kiosk.deviceId, actor: 'temporary' });

    // Someone who copied the session's state before the tab closed gets nothing: logged out.
    const revived = await open(copy);
    await revived.once('logged-out');
    await alice.close();
  });

  it('a temporary device back within the minute stays, and its minute starts again when it leaves again', async () => {
    const alice = await createPrimary(server, 'alice_temp_back', undefined, clock.now);
    const kioskStore = new MemoryStore();
    const kiosk = await linkCompanion(server, alice, { store: kioskStore, now: clock.now, temporary: true });
    await closeTab(kiosk);
    await clock.advance(30_000);
    const back = await open(kioskStore);
    await back.ready();
    expect(disconnectedAt(kiosk.deviceId)).toBeNull();
    await clock.advance(40_000); // 70 s after the first close
    await server.sweep();
    expect(await listed(alice, kiosk.deviceId)).toBe(true);
    expect(back.connectionState).toBe('online');

    await closeTab(back);
    await clock.advance(59_000);
    await server.sweep();
    expect(await listed(alice, kiosk.deviceId)).toBe(true);
    await clock.advance(2_000);
    await server.sweep();
    expect(await listed(alice, kiosk.deviceId)).toBe(false);
    await alice.close();
  });

  it('a device kept signed in stays when its socket closes; a temporary one that never connected goes', async () => {
    const alice = await createPrimary(server, 'alice_temp_kept', undefined, clock.now);
    const laptop = await linkCompanion(server, alice, { now: clock.now });
    await laptop.close();
    // Linked, then the tab closed before the new device ever connected.
    const request = new LinkRequest({ ...connectOptions(server, new MemoryStore(), clock.now), deviceName: 'Closed at once', temporary: true });
    const qr = request.once('qr');
    const linked = request.once('linked');
    await request.start();
    const { approve } = await alice.inspectLink((await qr).text);
    await approve();
    const { deviceId: neverConnected } = await linked;
    expect(await listed(alice, neverConnected)).toBe(true);

    await new Promise((resolve) => setTimeout(resolve, 300));
    await clock.advance(61_000);
    await server.sweep();
    expect(await listed(alice, neverConnected)).toBe(false);
    expect(await listed(alice, laptop.deviceId)).toBe(true);
    await alice.close();
  });

  it('the server removes it on its own a minute after its socket closed (real time, no sweep)', { timeout: 90_000 }, async () => {
    const alice = await createPrimary(server, 'alice_temp_timer', undefined, clock.now);
    const kiosk = await linkCompanion(server, alice, { now: clock.now, temporary: true });
    await closeTab(kiosk);
    const closedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 55_000));
    expect(await listed(alice, kiosk.deviceId)).toBe(true);
    await eventually(async () => !(await listed(alice, kiosk.deviceId)), 10_000, 'the removal by the timer');
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(60_000);
    await alice.close();
  });

  it('after a crash, temporary devices whose tab closed meanwhile are removed a minute after the restart', async () => {
    const alice = await createPrimary(server, 'alice_temp_crash', undefined, clock.now);
    const kiosk = await linkCompanion(server, alice, { now: clock.now, temporary: true });
    await server.kill();
    await kiosk.close(); // the tab closes while the server is down: no node sees the socket go
    server = await server.restart();
    clock.reset();
    expect(await listed(alice, kiosk.deviceId)).toBe(true);
    await clock.advance(61_000);
    await server.sweep();
    expect(await listed(alice, kiosk.deviceId)).toBe(false);
    await alice.close();
  });
});
