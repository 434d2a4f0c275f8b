// Integration: a lying database against the real server (SPEC ATTEST-1, CONTENT-1). A server
// that lists account A's device under account M (with A's attestation, or with none), or
// delivers A's message as M's, gets nothing past a contact: the attestation names A, and a first
// message is refused unless its initiator key is the claimed sender device's. (That the session's
// associated data names both accounts, PQXDH-1, is shown by the crypto package's own tests.)
import { randomBytes } from 'node:crypto';
import { loadIdentity } from '@pairwise/client/identity';
import { MemoryStore } from '@pairwise/client/memory-store';
import { PairwiseClient } from '@pairwise/client/pairwise-client';
import { publicIdentity } from '@pairwise/crypto/keys';
import { describe, expect, it } from 'vitest';
import type { ServerProcess } from './server-process.js';
import { replaceList, withServerDatabase } from './test-support/server-database.js';
import { useServerProcess } from './test-support/use-server-process.js';
import { connectOptions, createPrimary, eventually } from './test-clients.js';

let server: ServerProcess;
useServerProcess({ get: () => server, set: (started) => (server = started) });

interface DeviceRowBytes {
  readonly device_id: string;
  readonly signing_key: Uint8Array;
  readonly agreement_key: Uint8Array;
  readonly attestation: Uint8Array | null;
}

describe('[ATTEST-1] [CONTENT-1] a server cannot pass one account\'s device or message off as another\'s', () => {
  it("a contact refuses a list naming A's device under M, and a message of A's delivered as M's", async () => {
    const alice = await createPrimary(server, 'alice_ab');
    const malloryStore = new MemoryStore();
    const mallory = await createPrimary(server, 'mallory_ab', malloryStore);
    const bobStore = new MemoryStore();
    let bob = await createPrimary(server, 'bob_ab', bobStore);
    const atBob: string[] = [];
    const watchBob = (client: PairwiseClient) => client.on('message', (message) => atBob.push(`${message.senderAccountId}: ${message.text}`));
    watchBob(bob);
    const atMallory: string[] = [];
    mallory.on('message', (message) => atMallory.push(message.text));
    await bob.sendText('mallory_ab', 'hi mallory');
    await mallory.sendText('bob_ab', 'hi bob');
    await alice.sendText('bob_ab', 'hi bob, alice here');
    await eventually(() => atBob.length === 2, 10_000, 'both messages at Bob');

    // The server lists Alice's phone, with the attestation it made for Alice, as a device of Mallory's.
    const alicePhone = withServerDatabase(server, (db) => db.prepare('select * from devices where account_id = ?').get('alice_ab')) as DeviceRowBytes;
    const ghost = randomBytes(16).toString('hex');
    const malloryIdentity = (await loadIdentity(malloryStore))!;
    const now = Date.now();
    await replaceList(
      server,
      malloryIdentity,
      [
        { deviceId: malloryIdentity.deviceId, kind: 'primary', identity: publicIdentity(malloryIdentity.device), linkedAt: now },
        { deviceId: ghost, kind: 'companion', identity: { signingKey: alicePhone.signing_key, agreementKey: alicePhone.agreement_key }, linkedAt: now },
      ],
      2,
    );
    withServerDatabase(server, (db) =>
      db
        .prepare(
          `insert into devices (device_id, account_id, kind, signing_key, agreement_key, name, linked_at, last_active_at, attestation)
           values (?, 'mallory_ab', 'companion', ?, ?, 'Ghost', ?, ?, ?)`,
        )
        .run(ghost, alicePhone.signing_key, alicePhone.agreement_key, now, now, alicePhone.attestation),
    );
    // Bob's next message to Mallory brings him the new list: refused, nothing of it trusted.
    const failed = bob.once('send-failed');
    await expect(bob.sendText('mallory_ab', 'who else is there?')).rejects.toThrow(/never attested/);
    expect((await failed).chatId).toBe('mallory_ab');

    // Without the borrowed attestation the ghost is merely a device that never attested: Bob's
    // messages go to Mallory's phone only, and nothing from the ghost is trusted.
    withServerDatabase(server, (db) => db.prepare('update devices set attestation = null where device_id = ?').run(ghost));
    const [pending] = await bob.pendingMessages();
    await bob.retry(pending!.messageId);
    await eventually(() => atMallory.includes('who else is there?'), 10_000, 'the message at Mallory');

    // Now the server takes a message Alice sends Bob and delivers it as the ghost's, Mallory's.
    await bob.close();
    await alice.sendText('bob_ab', 'only for bob, from alice');
    const bobPhone = (await loadIdentity(bobStore))!.deviceId;
    const insert = (senderDeviceId: string, content: Uint8Array) =>
      withServerDatabase(server, (db) =>
        db
          .prepare(
            `insert into inbox (device_id, server_time, expires_at, kind, sender_account_id, sender_device_id, client_message_id, content)
             values (?, ?, ?, 'message', 'mallory_ab', ?, ?, ?)`,
          )
          .run(bobPhone, Date.now(), Date.now() + 86_400_000, senderDeviceId, randomBytes(16), content),
      );
    const content = withServerDatabase(server, (db) => {
      const row = db.prepare("select * from inbox where device_id = ? and kind = 'message' order by seq desc").get(bobPhone) as {
        seq: number;
        content: Uint8Array;
      };
      db.prepare('delete from inbox where seq = ?').run(row.seq);
      return row.content;
    });
    // As the ghost's, and as Mallory's real phone's: the session Alice's message belongs to binds
    // Alice's ids, so under Mallory's it does not decrypt either.
    insert(ghost, content);
    insert(malloryIdentity.deviceId, content);
    bob = (await PairwiseClient.open(connectOptions(server, bobStore)))!;
    watchBob(bob);
    const refusals: string[] = [];
    bob.on('decrypt-failed', (failure) => refusals.push(`${failure.chatId}/${failure.senderDeviceId}`));
    await bob.ready();
    await eventually(() => refusals.length === 2, 10_000, 'both forgeries refused');
    expect(refusals.sort()).toEqual([`mallory_ab/${ghost}`, `mallory_ab/${malloryIdentity.deviceId}`].sort());
    expect(atBob.some((line) => line.includes('only for bob'))).toBe(false);
    expect(bob.diagnostics.refusedMessages).toBe(2);
    for (const client of [alice, mallory, bob]) await client.close();
  });
});
