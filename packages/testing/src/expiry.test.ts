// Integration: the expiry policies, enforced by the server's sweeper on its fake clock (SPEC
// EXPIRY-*): inactive companions, companions of a phone that is no longer used, the warning that
// comes first, and the choices that keep them.
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '@pairwise/client/memory-store';
import { PairwiseClient } from '@pairwise/client/pairwise-client';
import type { ClientStore } from '@pairwise/client/client-store';
import { DAY_MS } from '@pairwise/protocol/limits';
import { RawConnection } from './raw-connection.js';
import type { ServerProcess } from './server-process.js';
import { TestClock } from './test-support/test-clock.js';
import { useServerProcess } from './test-support/use-server-process.js';
import { connectOptions, createPrimary, eventually, linkCompanion } from './test-clients.js';

let server: ServerProcess;
useServerProcess({ get: () => server, set: (started) => (server = started) });
const clock = new TestClock(() => server);
const MINUTE = 60_000;

async function deviceIds(client: PairwiseClient): Promise<string[]> {
  return (await client.devices()).map((device) => device.deviceId);
}

/** A copy of a device's store, as someone who copied the browser profile would hold. */
async function copyOf(store: MemoryStore): Promise<MemoryStore> {
  const copy = new MemoryStore();
  for (const table of ['identity', 'prekeys', 'sessions', 'contacts'] as const) {
    for (const [key, value] of await store.list(table)) await copy.put(table, key, value);
  }
  return copy;
}

/**
 * Closes a client's connection and gives the server a moment to see it go: until then the
 * server counts the device as connected, and a sweep would record it as active.
 */
async function disconnect(client: PairwiseClient): Promise<void> {
  await client.close();
  await new Promise((resolve) => setTimeout(resolve, 300));
}

async function open(store: ClientStore): Promise<PairwiseClient> {
  const client = await PairwiseClient.open(connectOptions(server, store, clock.now));
  if (client === null) throw new Error('no identity in the store');
  return client;
}

describe('[EXPIRY-1] companions inactive for the chosen days are logged out', () => {
  it('after the chosen days, not a day before; a connected one never; the phone is told', async () => {
    const aliceStore = new MemoryStore();
    const alice = await createPrimary(server, 'alice_inactive', aliceStore, clock.now);
    expect(await alice.refreshSecurity()).toMatchObject({ inactiveDays: 30, phoneUnusedDays: 14 });
    // Only the offered choices are accepted.
    for (const policies of [
      { inactiveDays: 5, phoneUnusedDays: 14 },
      { inactiveDays: 0, phoneUnusedDays: 14 },
      { inactiveDays: 30, phoneUnusedDays: 7 },
    ]) {
      await expect(alice.setPolicies(policies), JSON.stringify(policies)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    }
    expect(await alice.setPolicies({ inactiveDays: 7, phoneUnusedDays: 14 })).toMatchObject({ inactiveDays: 7, phoneUnusedDays: 14 });

    const laptopStore = new MemoryStore();
    const laptop = await linkCompanion(server, alice, { store: laptopStore, now: clock.now, deviceName: 'Laptop' });
    const desk = await linkCompanion(server, alice, { now: clock.now, deviceName: 'Desk' });
    const laptopCopy = await copyOf(laptopStore);
    await disconnect(laptop); // inactive from now on; the desk stays connected
    const phoneSocket = await RawConnection.open(server);
    await phoneSocket.authenticateAs(aliceStore, server.origin);

    await clock.advance(6 * DAY_MS);
    await server.sweep();
    expect(await deviceIds(alice)).toContain(laptop.deviceId);

    await clock.advance(DAY_MS + 2 * MINUTE);
    await server.sweep();
    expect(await deviceIds(alice)).not.toContain(laptop.deviceId);
    // The phone is told, so that it re-signs its list without the laptop.
    const told = await phoneSocket.next((frame) => frame.body.case === 'deviceRemoved');
    expect(told.body.value).toMatchObject({ deviceId: laptop.deviceId, reason: 'expired' });
    phoneSocket.close();

    // The desk has been connected all along: more than 7 days after its last activity in the
    // store, it is still there, because a connected device is active now.
    await clock.advance(8 * DAY_MS);
    await server.sweep();
    expect(await deviceIds(alice)).toContain(desk.deviceId);
    expect(desk.connectionState).toBe('online');

    // A copy of the expired laptop that comes back is told it is logged out, and wipes itself.
    const revived = await open(laptopCopy);
    const { reason } = await revived.once('logged-out');
    expect(reason).toBeTruthy();
    expect(await laptopCopy.list('identity').catch(() => [])).toEqual([]);

    const removal = (await alice.securityLog()).find((entry) => entry.kind === 'device-removed');
    expect(removal).toMatchObject({ deviceId: laptop.deviceId, deviceName: 'Laptop', actor: 'expiry', network: '' });
    await Promise.all([alice.close(), desk.close()]);
  });
});

describe('[EXPIRY-2] [EXPIRY-3] [EXPIRY-4] a phone that is not used', () => {
  it('warns every device from day 10, once, and logs every companion out at day 14', async () => {
    const bobStore = new MemoryStore();
    const bob = await createPrimary(server, 'bob_unused', bobStore, clock.now);
    const tablet = await linkCompanion(server, bob, { now: clock.now, deviceName: 'Tablet' });
    const laptopStore = new MemoryStore();
    const laptop = await linkCompanion(server, bob, { now: clock.now, store: laptopStore, deviceName: 'Laptop' });
    await disconnect(laptop);
    const warnings: boolean[] = [];
    tablet.on('security', ({ security }) => warnings.push(security.phoneUnusedWarning));
    const { phoneLastActiveAt } = await tablet.refreshSecurity();
    await disconnect(bob); // the phone is not used from now on
    warnings.length = 0;

    await clock.advance(10 * DAY_MS - 2 * MINUTE);
    await server.sweep();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(warnings).not.toContain(true);

    await clock.advance(4 * MINUTE);
    await server.sweep();
    await eventually(() => warnings.includes(true), 3000, 'the warning pushed').catch(async (e) => { console.log('DEBUG', warnings, tablet.connectionState, JSON.stringify(await tablet.refreshSecurity())); throw e; });
    // Once per idle spell: the next sweep does not push it again.
    await server.sweep();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(warnings.filter(Boolean)).toHaveLength(1);
    const warned = await tablet.refreshSecurity();
    expect(warned).toMatchObject({ phoneUnusedWarning: true, phoneLastActiveAt, companionsExpireAt: phoneLastActiveAt + 14 * DAY_MS });

    // A companion that was offline sees the warning as soon as it connects (Authenticated.security).
    const laptopBack = await open(laptopStore);
    await laptopBack.ready();
    expect(laptopBack.security?.phoneUnusedWarning).toBe(true);

    const loggedOut = [tablet.once('logged-out'), laptopBack.once('logged-out')];
    await clock.advance(4 * DAY_MS - 4 * MINUTE); // 14 days less 2 minutes since the phone's last use
    await server.sweep();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(tablet.connectionState).toBe('online');
    await clock.advance(4 * MINUTE);
    await server.sweep();
    for (const { reason } of await Promise.all(loggedOut)) expect(reason).toBe('expired');

    const phone = await open(bobStore);
    expect(await deviceIds(phone)).toEqual([bob.deviceId]);
    const removals = (await phone.securityLog()).filter((entry) => entry.kind === 'device-removed');
    expect(removals.map((entry) => entry.actor)).toEqual(['phone-unused', 'phone-unused']);
    expect(removals.map((entry) => entry.deviceId).sort()).toEqual([tablet.deviceId, laptop.deviceId].sort());
    await phone.close();
  });

  it('"never" keeps the companions and shows no warning', async () => {
    const carolStore = new MemoryStore();
    const carol = await createPrimary(server, 'carol_never', carolStore, clock.now);
    await carol.setPolicies({ inactiveDays: 90, phoneUnusedDays: 0 });
    const laptop = await linkCompanion(server, carol, { now: clock.now });
    await disconnect(carol);
    await clock.advance(31 * DAY_MS);
    await server.sweep();
    expect(await laptop.refreshSecurity()).toMatchObject({ phoneUnusedDays: 0, phoneUnusedWarning: false, companionsExpireAt: 0 });
    expect(await deviceIds(laptop)).toContain(laptop.deviceId);
    expect(laptop.connectionState).toBe('online');
    await laptop.close();
  });
});
