// Integration: a companion whose history is behind the app lock (SPEC LOCK-*), against the real
// server. It keeps receiving while locked (records sealed), and its outbox waits, sealed, for the
// unlock instead of being lost or read.
import { describe, expect, it } from 'vitest';
import { STORE_TABLES, StoreTable } from '@pairwise/client/client-store';
import { HistoryLockStore } from '@pairwise/client/history-lock';
import { MemoryStore } from '@pairwise/client/memory-store';
import { PairwiseClient } from '@pairwise/client/pairwise-client';
import type { ServerProcess } from './server-process.js';
import { useServerProcess } from './test-support/use-server-process.js';
import { connectOptions, createPrimary, eventually, linkCompanion } from './test-clients.js';

let server: ServerProcess;
useServerProcess({ get: () => server, set: (started) => (server = started) });

const PASSCODE = 'correct horse';

/** Everything the store underneath holds, bytes as latin1 text. */
async function rawText(inner: MemoryStore): Promise<string> {
  const text = (value: unknown): unknown => {
    if (value instanceof Uint8Array) return String.fromCharCode(...value);
    if (Array.isArray(value)) return value.map(text);
    if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, text(item)]));
    return value;
  };
  const all: unknown[] = [];
  for (const table of STORE_TABLES) all.push(text(await inner.list(table)));
  return JSON.stringify(all);
}

describe('[LOCK-5] a locked companion', () => {
  it('receives while locked, keeps its outbox sealed until unlock, and shows everything after it', async () => {
    const alice = await createPrimary(server, 'alicelock');
    const bob = await createPrimary(server, 'boblock');
    const bobSees: string[] = [];
    bob.on('message', (message) => bobSees.push(message.text));
    const inner = new MemoryStore();
    const store = await HistoryLockStore.open(inner);
    const companion = await linkCompanion(server, alice, { store });
    const companionSees: string[] = [];
    companion.on('message', (message) => companionSees.push(message.text));
    const companionSent: string[] = [];
    companion.on('sent', (sent) => companionSent.push(sent.chatId));
    await store.enable(PASSCODE, 1);

    await bob.sendText('alicelock', 'before the lock');
    await eventually(() => companionSees.includes('before the lock'), 10_000, 'the first message');
    store.lock();
    await bob.sendText('alicelock', 'while locked');
    await eventually(() => companionSees.includes('while locked'), 10_000, 'the message sent while locked');
    // The device acknowledged it, so it is stored: sealed.
    await eventually(async () => (await inner.list(StoreTable.Messages)).length >= 2, 10_000, 'two stored messages');

    // Its delivery receipts have left (sealed outbox entries, sent from memory, then deleted). An
    // empty outbox alone would not say so: the second receipt may not be written yet.
    await eventually(() => companionSent.filter((chatId) => chatId === 'boblock').length >= 2, 10_000, 'both receipts accepted');
    await eventually(async () => (await inner.list(StoreTable.Outbox)).length === 0, 10_000, 'the receipts deleted');
    // Closed, then opened once more without a connection (a server it cannot reach): a message
    // written then stays in the outbox, sealed, when that client closes too.
    await companion.close();
    const offline = (await PairwiseClient.open({ ...connectOptions(server, store), url: 'ws://127.0.0.1:1/ws' }))!;
    const queued = offline.sendText('boblock', 'queued while closed');
    await eventually(async () => (await inner.list(StoreTable.Outbox)).length === 1, 10_000, 'the message in the outbox');
    await offline.close();
    await expect(queued).rejects.toThrow();
    expect(await rawText(inner)).not.toMatch(/before the lock|while locked|queued while closed/);

    // A restart while locked: the client opens, and leaves the sealed outbox alone.
    const reopened = await HistoryLockStore.open(inner);
    expect(reopened.locked).toBe(true);
    const again = await PairwiseClient.open(connectOptions(server, reopened));
    await again!.ready();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(bobSees).not.toContain('queued while closed');
    expect((await inner.list(StoreTable.Outbox)).length).toBe(1);

    expect((await reopened.unlock(PASSCODE)).ok).toBe(true);
    await eventually(() => bobSees.includes('queued while closed'), 10_000, 'the outbox sent after unlock');
    await eventually(async () => (await reopened.list(StoreTable.Outbox)).length === 0, 10_000, 'an empty outbox');
    const texts = (await reopened.list<{ text: string }>(StoreTable.Messages)).map(([, value]) => value.text);
    expect(texts).toEqual(expect.arrayContaining(['before the lock', 'while locked', 'queued while closed']));
    await again!.close();
    await alice.close();
    await bob.close();
  });
});
