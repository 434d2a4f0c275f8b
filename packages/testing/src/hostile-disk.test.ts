// One client cannot fill the server's disk (SPEC LIMIT-3, PREKEYS-1): a device's inbox takes a
// bounded share from each other account and in all, the refusal reaches the sender's app in words,
// the recipient's own devices still reach each other, and one-time prekeys stay within their limit
// per device. Against the real server process with small quotas.
import { randomBytes } from 'node:crypto';
import { MemoryStore } from '@pairwise/client/memory-store';
import { generateOneTimePreKeys } from '@pairwise/crypto/keys';
import { MAX_CONTENT_BYTES, MAX_ONE_TIME_PREKEYS } from '@pairwise/protocol/limits';
import { describe, expect, it } from 'vitest';
import { RawConnection } from './raw-connection.js';
import type { ServerProcess } from './server-process.js';
import { withServerDatabase } from './test-support/server-database.js';
import { useServerProcess } from './test-support/use-server-process.js';
import { createPrimary, eventually, linkCompanion, reopen } from './test-clients.js';

const PER_SENDER_MESSAGES = 20;

let server: ServerProcess;
useServerProcess(
  { get: () => server, set: (started) => (server = started) },
  { env: { INBOX_MAX_MESSAGES_PER_SENDER: String(PER_SENDER_MESSAGES), INBOX_MAX_MIB_PER_SENDER: '1', INBOX_MAX_MESSAGES: '100', INBOX_MAX_MIB: '4' } },
);

/** Undelivered rows and their content bytes in one device's inbox, read from the server's database. */
function inboxUsage(deviceId: string): { rows: number; bytes: number } {
  return withServerDatabase(server, (db) =>
    db.prepare('select count(*) as rows, coalesce(sum(length(content)), 0) as bytes from inbox where device_id = ?').get(deviceId),
  ) as { rows: number; bytes: number };
}

describe('[LIMIT-3] inbox quotas', () => {
  it('a flood of 64 KiB messages to an offline user stops at the sender\'s share; others and the user\'s own devices go on', async () => {
    const bobStore = new MemoryStore();
    const bob = await createPrimary(server, 'offline_bob', bobStore);
    const laptopStore = new MemoryStore();
    const laptop = await linkCompanion(server, bob, { store: laptopStore });
    const devices = [bob.deviceId, laptop.deviceId];
    await laptop.close();
    await bob.close();

    const malloryStore = new MemoryStore();
    await (await createPrimary(server, 'mallory', malloryStore)).close();
    const mallory = await RawConnection.open(server);
    expect((await mallory.authenticateAs(malloryStore, server.origin)).error).toBeUndefined();
    const content = new Uint8Array(randomBytes(MAX_CONTENT_BYTES));
    const outcomes: string[] = [];
    for (let i = 0; i < 200; i++) {
      const response = await mallory.request({
        case: 'sendMessage',
        value: {
          clientMessageId: new Uint8Array(randomBytes(16)),
          recipientAccountId: 'offline_bob',
          envelopes: devices.map((deviceId) => ({ deviceId, content })),
        },
      });
      outcomes.push(response.error?.code ?? 'accepted');
    }
    // 1 MiB from one sender: sixteen messages of 64 KiB, then INBOX_FULL, and nothing more stored.
    expect(outcomes.filter((outcome) => outcome === 'accepted')).toHaveLength(16);
    expect(new Set(outcomes.slice(16))).toEqual(new Set(['INBOX_FULL']));
    for (const deviceId of devices) expect(inboxUsage(deviceId)).toEqual({ rows: 16, bytes: 16 * MAX_CONTENT_BYTES });
    mallory.close();

    // Carol has her own share; past it her app says why, in words.
    const carol = await createPrimary(server, 'carol_writes');
    for (let i = 0; i < PER_SENDER_MESSAGES; i++) await carol.sendText('offline_bob', `message ${i}`);
    const refused = carol.sendText('offline_bob', 'one too many');
    const error = (await refused.catch((caught: unknown) => caught)) as { code: string; message: string };
    expect(error.code).toBe('INBOX_FULL');
    expect(error.message).toContain("offline_bob's phone has too many undelivered messages");
    const [failed] = await carol.pendingMessages();
    expect(failed?.failure?.code).toBe('INBOX_FULL');

    // Bob's phone, back, still reaches his laptop, whose inbox is full of what others sent.
    const phone = await reopen(server, bobStore);
    await phone.sendText('offline_bob', 'note to my laptop');
    // Once both of Bob's devices have collected their messages, Carol's Retry goes through.
    const back = await reopen(server, laptopStore);
    const notes: string[] = [];
    back.on('message', (message) => notes.push(message.text));
    await eventually(() => notes.includes('note to my laptop') && notes.includes(`message ${PER_SENDER_MESSAGES - 1}`), 20_000, "the laptop's messages");
    await eventually(() => devices.every((deviceId) => inboxUsage(deviceId).rows === 0), 20_000, 'both inboxes collected');
    await carol.retry(failed!.messageId);
    for (const client of [carol, phone, back]) await client.close();
  }, 120_000);
});

describe('[LIMIT-3] an account has a share of its own devices\' inboxes too', () => {
  it('notes to self flooding its own offline companion stop at its share, and the SDK says whose device is full', async () => {
    const phoneStore = new MemoryStore();
    const phone = await createPrimary(server, 'self_flooder', phoneStore);
    const laptop = await linkCompanion(server, phone);
    const laptopId = laptop.deviceId;
    await laptop.close();
    const raw = await RawConnection.open(server);
    expect((await raw.authenticateAs(phoneStore, server.origin)).error).toBeUndefined();
    const content = new Uint8Array(randomBytes(MAX_CONTENT_BYTES));
    const outcomes: string[] = [];
    for (let i = 0; i < 40; i++) {
      const response = await raw.request({
        case: 'sendMessage',
        value: { clientMessageId: new Uint8Array(randomBytes(16)), recipientAccountId: 'self_flooder', envelopes: [{ deviceId: laptopId, content }] },
      });
      outcomes.push(response.error?.code ?? 'accepted');
      if (response.error) expect(response.error.deviceIds).toEqual([laptopId]);
    }
    raw.close();
    expect(outcomes.filter((outcome) => outcome === 'accepted')).toHaveLength(16);
    expect(inboxUsage(laptopId).rows).toBe(16);
    // The phone's own app, writing to a friend, is told that its own laptop is the full one.
    await (await createPrimary(server, 'friend_of_flooder')).close();
    const error = (await phone.sendText('friend_of_flooder', 'hello').catch((caught: unknown) => caught)) as { code: string; message: string };
    expect(error.code).toBe('INBOX_FULL');
    expect(error.message).toBe('one of your linked devices has too many undelivered messages; open it to catch up, or log it out on your phone');
    await phone.close();
  });
});

describe('[PREKEYS-1] one-time prekeys per device', () => {
  it('uploads past the per-device limit are refused and store nothing, however many come', async () => {
    const store = new MemoryStore();
    const uploader = await createPrimary(server, 'uploader', store);
    const { deviceId } = uploader;
    await uploader.close();
    const raw = await RawConnection.open(server);
    const signedIn = await raw.authenticateAs(store, server.origin);
    expect(signedIn.result.case).toBe('authenticated');
    const start = signedIn.result.case === 'authenticated' ? signedIn.result.value.oneTimePreKeys : 0;
    const counts: number[] = [];
    const refusals: string[] = [];
    for (let i = 0; i < 20; i++) {
      // Ids far above the device's own, so that no upload can replace a key already there.
      const keys = await generateOneTimePreKeys(1_000_000 + i * MAX_ONE_TIME_PREKEYS, MAX_ONE_TIME_PREKEYS);
      const oneTimePreKeys = keys.map((key) => ({ id: key.id, publicKey: key.keyPair.publicKey }));
      const response = await raw.request({ case: 'uploadPreKeys', value: { preKeys: { oneTimePreKeys, pqOneTimePreKeys: [] } } });
      if (response.error) refusals.push(response.error.code);
      else if (response.result.case === 'preKeyStatus') counts.push(response.result.value.oneTimePreKeys);
    }
    // Only an upload that fits is taken; every other one is refused whole.
    expect(counts.every((count) => count <= MAX_ONE_TIME_PREKEYS)).toBe(true);
    expect(refusals).toEqual(Array(20 - counts.length).fill('BAD_REQUEST'));
    expect(counts.length).toBe(start + MAX_ONE_TIME_PREKEYS <= MAX_ONE_TIME_PREKEYS ? 1 : 0);
    const held = withServerDatabase(server, (db) => db.prepare('select count(*) as n from one_time_prekeys where device_id = ?').get(deviceId)) as { n: number };
    expect(held.n).toBeLessThanOrEqual(MAX_ONE_TIME_PREKEYS);
    raw.close();
  });
});
