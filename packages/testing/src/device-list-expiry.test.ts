// Integration: device lists that age (SPEC DEVLIST-3, DEVLIST-4), on the server's fake clock.
// Over 400 days linking, removing and messaging keep working because the phone renews its list
// when a third of its life is left, without any "devices changed" on any device; and a server that
// withholds a list update can keep a removed companion receiving only until that list expires.
import { randomBytes } from 'node:crypto';
import { MemoryStore } from '@pairwise/client/memory-store';
import { SendFailedError } from '@pairwise/client/errors';
import type { PairwiseClient } from '@pairwise/client/pairwise-client';
import type { ClientStore } from '@pairwise/client/client-store';
import { DAY_MS, DEVICE_LIST_VALIDITY_MS } from '@pairwise/protocol/limits';
import { describe, expect, it } from 'vitest';
import type { ServerProcess } from './server-process.js';
import { restoreAccount, snapshotAccount, withServerDatabase } from './test-support/server-database.js';
import { TestClock } from './test-support/test-clock.js';
import { useServerProcess } from './test-support/use-server-process.js';
import { createPrimary, eventually, linkCompanion, reopen } from './test-clients.js';

let server: ServerProcess;
useServerProcess({ get: () => server, set: (started) => (server = started) });
const clock = new TestClock(() => server);

const open = (store: ClientStore): Promise<PairwiseClient> => reopen(server, store, clock.now);

/** The account's list as the server holds it. */
function storedList(accountId: string): { version: number; expiresAt: number } {
  return withServerDatabase(server, (db) => {
    const row = db.prepare('select list_version as version, list_expires_at as expiresAt from accounts where account_id = ?').get(accountId) as {
      version: number;
      expiresAt: number;
    };
    return { version: Number(row.version), expiresAt: Number(row.expiresAt) };
  });
}

/** Texts a client receives, by text, counting repeats. */
function counted(client: PairwiseClient): Map<string, number> {
  const seen = new Map<string, number>();
  client.on('message', (message) => seen.set(message.text, (seen.get(message.text) ?? 0) + 1));
  return seen;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('[DEVLIST-4] the phone renews its list; 400 days of linking, removing and messaging', () => {
  it('renews at a third of the lifetime left, with no "devices changed" anywhere, and everything keeps working past the first expiry', async () => {
    const phoneStore = new MemoryStore();
    let phone = await createPrimary(server, 'alice_400', phoneStore, clock.now);
    // Computers stay linked however long the phone is away, and for 90 idle days.
    await phone.setPolicies({ inactiveDays: 90, phoneUnusedDays: 0 });
    const laptop = await linkCompanion(server, phone, { now: clock.now });
    const bob = await createPrimary(server, 'bob_400', undefined, clock.now);
    const atLaptop = counted(laptop);
    const atBob = counted(bob);
    // Bob learns Alice's devices once, before the clock moves.
    await bob.sendText('alice_400', 'day 0');
    await eventually(() => atLaptop.get('day 0') === 1, 10_000, 'the first message');
    const changes: string[] = [];
    for (const [who, client] of [['bob', bob], ['laptop', laptop]] as const) {
      client.on('devices-changed', (change) => change.accountId === 'alice_400' && changes.push(`${who}: +${change.added.length} -${change.removed.length}`));
    }
    const first = storedList('alice_400');
    expect(first.expiresAt - clock.now()).toBeGreaterThan(DEVICE_LIST_VALIDITY_MS - DAY_MS);

    let other: PairwiseClient | null = null;
    let versions = first.version;
    let previousDay = 0;
    for (const day of [30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 330, 360, 390, 400]) {
      await clock.advance((day - previousDay) * DAY_MS);
      previousDay = day;
      await server.sweep();
      // The phone is opened again now and then (it renews its list at connection).
      await phone.close();
      phone = await open(phoneStore);
      const atPhone = counted(phone);
      if (day === 270) {
        // 365 - 270 = 95 days left, less than a third: renewed at connection, same devices, one version up.
        await eventually(() => storedList('alice_400').version === versions + 1, 10_000, 'the renewed list');
        expect(storedList('alice_400').expiresAt).toBeGreaterThan(clock.now() + DEVICE_LIST_VALIDITY_MS - DAY_MS);
        versions += 1;
      }
      if (day === 300) other = await linkCompanion(server, phone, { now: clock.now, deviceName: 'Second computer' });
      if (day === 330) {
        const gone = other!.once('logged-out');
        await phone.removeDevice(other!.deviceId);
        await gone;
        other = null;
      }
      expect(storedList('alice_400').expiresAt).toBeGreaterThan(clock.now());
      const text = `day ${day}`;
      await bob.sendText('alice_400', text);
      await eventually(() => atLaptop.get(text) === 1 && atPhone.get(text) === 1, 10_000, `"${text}" on the phone and the laptop`);
      await laptop.sendText('bob_400', `laptop ${text}`);
      await eventually(() => atBob.get(`laptop ${text}`) === 1, 10_000, `"laptop ${text}" at Bob`);
      // No renewal on other days (a link or a removal signs a list of its own).
      if (day === 300 || day === 330) versions += 1;
      expect(storedList('alice_400').version, `the list version on day ${day}`).toBe(versions);
    }
    // Day 400 is past the first list's expiry (day 365): it works because the phone renewed.
    expect(clock.now()).toBeGreaterThan(first.expiresAt);
    // Only the link and the removal changed anyone's view of Alice's devices; the renewal did not.
    expect(changes.sort()).toEqual(['bob: +0 -1', 'bob: +1 -0', 'laptop: +0 -1', 'laptop: +1 -0']);
    expect([...atBob.values(), ...atLaptop.values()].every((count) => count === 1)).toBe(true);
    for (const client of [phone, laptop, bob]) await client.close();
  }, 180_000);
});

describe('[DEVLIST-3] a withheld list update', () => {
  it('keeps a removed companion receiving only until the withheld list expires; then only the phone is sent to', async () => {
    const phoneStore = new MemoryStore();
    const phone = await createPrimary(server, 'alice_wh', phoneStore, clock.now);
    await phone.setPolicies({ inactiveDays: 90, phoneUnusedDays: 0 });
    const laptopStore = new MemoryStore();
    let laptop = await linkCompanion(server, phone, { store: laptopStore, now: clock.now });
    const bobStore = new MemoryStore();
    let bob = await createPrimary(server, 'bob_wh', bobStore, clock.now);
    let atLaptop = counted(laptop);
    await bob.sendText('alice_wh', 'before');
    await eventually(() => atLaptop.get('before') === 1, 10_000, 'the first message on the laptop');
    const withLaptop = snapshotAccount(server, 'alice_wh');
    const expiresAt = storedList('alice_wh').expiresAt;

    // Bob and the laptop are away while the phone removes the laptop (list n + 1)...
    await bob.close();
    await laptop.close();
    await phone.removeDevice(laptop.deviceId);
    await phone.close();
    // ...and the server withholds it: it goes on serving list n, and keeps the laptop.
    restoreAccount(server, withLaptop);
    laptop = await open(laptopStore);
    atLaptop = counted(laptop);
    bob = await open(bobStore);
    const refusedAtBob: string[] = [];
    bob.on('decrypt-failed', (failure) => refusedAtBob.push(failure.senderDeviceId));
    await bob.sendText('alice_wh', 'while list n is valid');
    await eventually(() => atLaptop.get('while list n is valid') === 1, 10_000, 'the withheld update working, for now');

    // Past list n's expiry the server still serves it: Bob sends to Alice's phone alone.
    await clock.advance(expiresAt - clock.now() + DAY_MS);
    await server.sweep();
    await bob.sendText('alice_wh', 'after list n expired');
    await pause(1000);
    expect(atLaptop.has('after list n expired')).toBe(false);
    const phoneAgain = await open(phoneStore);
    const atPhone = counted(phoneAgain);
    await eventually(() => atPhone.get('after list n expired') === 1, 10_000, 'the message on the phone');
    // And the laptop can no longer send: the server refuses it as not current (SPEC DEVICES-2),
    // and Bob's app, which would not trust it either (RECEIVE-1), gets nothing from it.
    const atBob = counted(bob);
    const id = randomBytes(4).toString('hex');
    const refusal = await laptop.sendText('bob_wh', `from the removed laptop ${id}`).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(SendFailedError);
    expect((refusal as SendFailedError).code).toBe('SENDER_NOT_CURRENT');
    await pause(500);
    expect(atBob.has(`from the removed laptop ${id}`)).toBe(false);
    expect(refusedAtBob).toEqual([]);
    for (const client of [phoneAgain, laptop, bob]) await client.close();
  }, 120_000);
});
