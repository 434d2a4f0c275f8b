// Integration: prekeys that rotate (SPEC PREKEYS-2, PQXDH-3), on the server's fake clock. The
// signed X25519 and last-resort ML-KEM prekeys are replaced every 7 days; a session started from
// a bundle fetched before a rotation still completes; past the 30-day grace the old private keys
// are gone from the device's store; one-time ML-KEM prekeys are used once.
import { randomBytes } from 'node:crypto';
import { StoreTable } from '@pairwise/client/client-store';
import { MemoryStore } from '@pairwise/client/memory-store';
import type { PairwiseClient } from '@pairwise/client/pairwise-client';
import { DAY_MS } from '@pairwise/protocol/limits';
import { describe, expect, it } from 'vitest';
import type { ServerProcess } from './server-process.js';
import { withServerDatabase } from './test-support/server-database.js';
import { TestClock } from './test-support/test-clock.js';
import { useServerProcess } from './test-support/use-server-process.js';
import { createPrimary, eventually, reopen } from './test-clients.js';

let server: ServerProcess;
useServerProcess({ get: () => server, set: (started) => (server = started) });
const clock = new TestClock(() => server);

const open = (store: MemoryStore): Promise<PairwiseClient> => reopen(server, store, clock.now);

/** The signed prekeys the server hands out for a device. */
function published(deviceId: string): { signedId: number; pqId: number } {
  return withServerDatabase(server, (db) => {
    const row = db.prepare('select signed_id as signedId, pq_id as pqId from signed_prekeys where device_id = ?').get(deviceId) as {
      signedId: number;
      pqId: number;
    };
    return { signedId: Number(row.signedId), pqId: Number(row.pqId) };
  });
}

/** The private prekeys a store holds, by store key. */
async function privateKeys(store: MemoryStore): Promise<string[]> {
  return (await store.list(StoreTable.PreKeys)).map(([key]) => key).filter((key) => /^(signed|pq|one-time):/.test(key));
}

describe('[PREKEYS-2] signed prekeys rotate', () => {
  it('every 7 days; a session from an older bundle still completes; after 30 days the old private keys are gone', async () => {
    const aliceStore = new MemoryStore();
    const alice = await createPrimary(server, 'alice_rot', aliceStore, clock.now);
    const aliceDevice = alice.deviceId;
    expect(published(aliceDevice)).toEqual({ signedId: 1, pqId: 1 });
    await alice.close();
    // Bob and Dave fetch Alice's bundle today, before any rotation; Dave's first message is held
    // back by the test (taken out of the inbox) until after the grace period.
    const bob = await createPrimary(server, 'bob_rot', undefined, clock.now);
    const dave = await createPrimary(server, 'dave_rot', undefined, clock.now);
    await bob.sendText('alice_rot', 'from a bundle fetched before the rotation');
    await dave.sendText('alice_rot', 'from dave, much later');
    const daveRow = withServerDatabase(server, (db) => {
      const row = db.prepare("select * from inbox where device_id = ? and sender_account_id = 'dave_rot'").get(aliceDevice) as { seq: number; content: Uint8Array; sender_device_id: string };
      db.prepare('delete from inbox where seq = ?').run(row.seq);
      return row;
    });
    // Bob's bundle took one of Alice's one-time ML-KEM prekeys: it names an id above the last-resort one.
    const beforeKeys = await privateKeys(aliceStore);
    expect(beforeKeys).toContain('signed:1');
    expect(beforeKeys).toContain('pq:1');

    await clock.advance(8 * DAY_MS);
    let again = await open(aliceStore);
    const seen: string[] = [];
    again.on('message', (message) => seen.push(message.text));
    await eventually(() => published(aliceDevice).signedId === 2, 10_000, 'the rotated prekeys on the server');
    expect(published(aliceDevice).pqId).toBeGreaterThan(1);
    await eventually(() => seen.includes('from a bundle fetched before the rotation'), 10_000, 'the message from the older bundle');
    const afterRotation = await privateKeys(aliceStore);
    // The replaced keys wait out their grace; the one-time ML-KEM prekey Bob's session used is gone.
    expect(afterRotation).toEqual(expect.arrayContaining(['signed:1', 'signed:2', 'pq:1']));
    const usedPq = beforeKeys.filter((key) => key.startsWith('pq:') && key !== 'pq:1' && !afterRotation.includes(key));
    expect(usedPq).toHaveLength(1);
    // A sender who fetches now gets the new keys, and its session completes too.
    const carol = await createPrimary(server, 'carol_rot', undefined, clock.now);
    await carol.sendText('alice_rot', 'from the new bundle');
    await eventually(() => seen.includes('from the new bundle'), 10_000, 'the message from the new bundle');

    // 31 more days: the keys replaced on day 8 are past their 30 days, and deleted.
    await again.close();
    await clock.advance(31 * DAY_MS);
    again = await open(aliceStore);
    const failures: string[] = [];
    again.on('decrypt-failed', (failure) => failures.push(failure.chatId));
    await eventually(async () => !(await privateKeys(aliceStore)).includes('signed:1'), 10_000, 'the old signed prekey deleted');
    const late = await privateKeys(aliceStore);
    expect(late).not.toContain('pq:1');
    expect(late).toContain('signed:2');
    // Dave's first message, held back until now, names a prekey Alice no longer has: refused, shown, acknowledged.
    withServerDatabase(server, (db) =>
      db
        .prepare(
          `insert into inbox (device_id, server_time, expires_at, kind, sender_account_id, sender_device_id, client_message_id, content)
           values (?, ?, ?, 'message', 'dave_rot', ?, ?, ?)`,
        )
        .run(aliceDevice, clock.now(), clock.now() + DAY_MS, daveRow.sender_device_id, randomBytes(16), daveRow.content),
    );
    await again.close();
    again = await open(aliceStore);
    again.on('decrypt-failed', (failure) => failures.push(failure.chatId));
    await eventually(() => failures.includes('dave_rot'), 10_000, "Dave's late first message refused");
    await eventually(() => withServerDatabase(server, (db) => (db.prepare('select count(*) as n from inbox where device_id = ?').get(aliceDevice) as { n: number }).n) === 0, 10_000, 'an empty inbox');
    for (const client of [again, bob, dave, carol]) await client.close();
  }, 60_000);
});
