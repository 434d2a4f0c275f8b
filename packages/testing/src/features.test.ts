// Integration: receipts, device-list notices, safety numbers, inbox expiry, prekey replenishing,
// registration rules.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '@pairwise/client/memory-store';
import { FileStore } from '@pairwise/client/node/file-store';
import { PairwiseClient } from '@pairwise/client/pairwise-client';
import { INBOX_TTL_MS } from '@pairwise/protocol/limits';
import { RawConnection } from './raw-connection.js';
import { removeDataDir, startServerProcess, type ServerProcess } from './server-process.js';
import { useServerProcess } from './test-support/use-server-process.js';
import { connectOptions, createPrimary, eventually, linkCompanion } from './test-clients.js';

let server: ServerProcess;
useServerProcess({ get: () => server, set: (started) => (server = started) });

describe('[RECEIPTS-1] delivery and read receipts', () => {
  it('the sender hears "delivered" when a device decrypted it and "read" when marked read', async () => {
    const alice = await createPrimary(server, 'alice_rcpt');
    const bob = await createPrimary(server, 'bob_rcpt');
    const receipts: { type: string; ids: readonly string[] }[] = [];
    alice.on('receipt', (receipt) => receipts.push({ type: receipt.type, ids: receipt.messageIds }));
    const { messageId } = await alice.sendText('bob_rcpt', 'did you get this?');
    await eventually(() => receipts.some((r) => r.type === 'delivered' && r.ids.includes(messageId)), 5000, 'delivered receipt');
    await bob.markRead('alice_rcpt', [messageId]);
    await eventually(() => receipts.some((r) => r.type === 'read' && r.ids.includes(messageId)), 5000, 'read receipt');
  });
});

describe('[DEVICES-4] device list changes reach contacts', () => {
  it('a contact is told when an account links a device, and the safety number is the same on both sides', async () => {
    const alice = await createPrimary(server, 'alice_notice');
    const bob = await createPrimary(server, 'bob_notice');
    await alice.sendText('bob_notice', 'hello'); // now they are contacts
    const changes: string[] = [];
    alice.on('devices-changed', (change) => changes.push(`${change.accountId}:+${change.added.length}`));
    await linkCompanion(server, bob);
    await eventually(() => changes.includes('bob_notice:+1'), 5000, 'device list notice');
    const [onAlice, onBob] = await Promise.all([alice.safetyNumber('bob_notice'), bob.safetyNumber('alice_notice')]);
    expect(onAlice.digits).toMatch(/^\d{60}$/);
    expect(onAlice.digits).toBe(onBob.digits);
  });
});

describe('[INBOX-4] acknowledgement', () => {
  it('an inbox row stays on the server until its device acknowledges it, then it is gone', async () => {
    const alice = await createPrimary(server, 'alice_ack');
    const bobStore = new MemoryStore();
    const bob = await createPrimary(server, 'bob_ack', bobStore);
    await bob.close();
    await alice.sendText('bob_ack', 'kept until acknowledged');
    expect(inboxRows(bob.deviceId)).toBe(1);
    const back = (await PairwiseClient.open(connectOptions(server, bobStore)))!;
    await back.once('message');
    await eventually(() => inboxRows(bob.deviceId) === 0, 5000, 'acknowledged row deleted');
    await back.close();
  });
});

/** Rows in a device's inbox, read straight from the server's database file. */
function inboxRows(deviceId: string): number {
  const db = new Database(join(server.dataDir, 'pairwise.sqlite'), { readonly: true });
  try {
    return (db.prepare('select count(*) as n from inbox where device_id = ?').get(deviceId) as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('[INBOX-6] undelivered messages expire', () => {
  it('after 30 days the server drops them and tells the sender', async () => {
    const alice = await createPrimary(server, 'alice_exp');
    const bob = await createPrimary(server, 'bob_exp');
    const bobStore = new MemoryStore();
    const laptop = await linkCompanion(server, bob, { store: bobStore });
    await laptop.close(); // the laptop never comes back online
    const expired: string[] = [];
    alice.on('message-expired', (event) => expired.push(`${event.messageId}:${event.recipientDeviceId}`));
    const delivered = bob.once('message');
    const { messageId } = await alice.sendText('bob_exp', 'for the laptop too');
    await delivered;
    // The phone's acknowledgement goes out with others a moment later, and is written lazily.
    await eventually(() => inboxRows(bob.deviceId) === 0, 5000, "the phone's copy acknowledged");
    try {
      await server.advanceClock(INBOX_TTL_MS + 60_000);
      await server.sweep();
      await eventually(() => expired.includes(`${messageId}:${laptop.deviceId}`), 5000, 'expiry notice');
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Only the laptop's copy expired: the phone had acknowledged its own.
      expect(expired.filter((entry) => entry.startsWith(messageId))).toEqual([`${messageId}:${laptop.deviceId}`]);
    } finally {
      await server.stop();
      server = await server.restart(); // back to the real clock for the following tests
    }
  });
});

describe('[PREKEYS-1] one-time prekeys', () => {
  it('each is handed out once, and a device running low is asked for more and uploads them', async () => {
    const bobStore = new MemoryStore();
    const bob = await createPrimary(server, 'bob_low', bobStore);
    const aliceStore = new MemoryStore();
    await createPrimary(server, 'alice_low', aliceStore);
    const raw = await RawConnection.open(server);
    await raw.authenticateAs(aliceStore, server.origin);
    const seen = new Set<number>();
    // 100 one-time prekeys were published; taking 85 leaves 15, below the threshold of 20.
    for (let i = 0; i < 85; i++) {
      const response = await raw.request({ case: 'fetchBundles', value: { accountId: 'bob_low' } });
      const id = response.result.case === 'bundles' ? response.result.value.bundles[0]?.oneTimePreKey?.id : undefined;
      expect(id).toBeDefined();
      expect(seen.has(id!)).toBe(false);
      seen.add(id!);
    }
    raw.close();
    // Bob was told and uploaded a fresh batch: a new connection of his finds plenty again.
    await eventually(async () => (await oneTimeCount(bobStore)) > 50, 10_000, 'replenished prekeys');
    await bob.close();
  });
});

async function oneTimeCount(store: MemoryStore): Promise<number> {
  const raw = await RawConnection.open(server);
  const response = await raw.authenticateAs(store, server.origin);
  raw.close();
  return response.result.case === 'authenticated' ? response.result.value.oneTimePreKeys : -1;
}

describe('[STORE-1] a Node device on the file store', () => {
  it('keeps its keys, sessions and outbox across a restart and reads what arrived meanwhile', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'pairwise-client-'));
    try {
      const aliceStore = await FileStore.open(directory);
      const alice = await createPrimary(server, 'alice_file', aliceStore);
      const bob = await createPrimary(server, 'bob_file');
      const first = alice.once('message');
      await bob.sendText('alice_file', 'before the restart');
      expect((await first).text).toBe('before the restart');
      await alice.close();
      // One store at a time on a directory (SPEC DEVICE-1): the next opens once this one closed.
      await aliceStore.close();

      await bob.sendText('alice_file', 'while closed');
      const reopenedStore = await FileStore.open(directory);
      const reopened = (await PairwiseClient.open(connectOptions(server, reopenedStore)))!;
      const seen: string[] = [];
      reopened.on('message', (message) => seen.push(message.text));
      await eventually(() => seen.includes('while closed'), 5000, 'message after restart');
      const back = bob.once('message');
      await reopened.sendText('bob_file', 'and back');
      expect((await back).text).toBe('and back');
      expect(seen).not.toContain('before the restart');
      await reopened.close();
      await reopenedStore.close();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('[ACCOUNT-1] registration', () => {
  it('usernames follow the documented rules and are unique', async () => {
    await expect(createPrimary(server, 'Bad Name')).rejects.toMatchObject({ code: 'USERNAME_INVALID' });
    await createPrimary(server, 'carol_unique');
    await expect(createPrimary(server, 'carol_unique')).rejects.toMatchObject({ code: 'USERNAME_TAKEN' });
  });

  it('with REGISTRATION=invite only a valid invite code creates an account', async () => {
    const invited = await startServerProcess({ env: { REGISTRATION: 'invite', INVITE_CODES: 'welcome-to-pairwise' } });
    try {
      const options = { ...connectOptions(invited), username: 'dave_inv' };
      await expect(PairwiseClient.createAccount(options)).rejects.toMatchObject({ code: 'REGISTRATION_CLOSED' });
      await expect(PairwiseClient.createAccount({ ...options, inviteCode: 'guess' })).rejects.toMatchObject({ code: 'INVITE_INVALID' });
      const dave = await PairwiseClient.createAccount({ ...options, inviteCode: 'welcome-to-pairwise' });
      await dave.ready();
      await dave.close();
    } finally {
      await invited.stop();
      removeDataDir(invited);
    }
  });
});
