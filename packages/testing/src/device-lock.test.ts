// Integration: one live client per device (SPEC DEVICE-1), against the real server. Two clients
// of one store cannot both run; "Use here" moves the device with nothing lost; and across a
// random schedule of tab switches and crashes no AES-GCM key and nonce is ever used twice.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StoreTable } from '@pairwise/client/client-store';
import { DeviceInUseError } from '@pairwise/client/device-lock';
import { MemoryStore } from '@pairwise/client/memory-store';
import { FileStore } from '@pairwise/client/node/file-store';
import { PairwiseClient } from '@pairwise/client/pairwise-client';
import type { ServerProcess } from './server-process.js';
import { Tab } from './test-support/tab-simulation.js';
import { useServerProcess } from './test-support/use-server-process.js';
import { connectOptions, createPrimary, eventually, linkCompanion } from './test-clients.js';

let server: ServerProcess;
useServerProcess({ get: () => server, set: (started) => (server = started) });

afterEach(() => {
  vi.restoreAllMocks();
});

/** Opens the device in `tab`'s view of the shared store, taking it over from another tab if asked. */
async function openIn(tab: Tab, takeOver = false): Promise<PairwiseClient> {
  const client = await PairwiseClient.open({ ...connectOptions(server, tab.store), socketFactory: tab.socketFactory, takeOver });
  if (client === null) throw new Error('the store holds no device');
  await client.ready();
  return client;
}

let accounts = 0;
const name = (prefix: string) => `${prefix}${++accounts}`;

describe('[DEVICE-1] one live client per device', () => {
  it('two clients on one store cannot both run; the second is refused until the first lets go', async () => {
    const alice = name('alicelock');
    const store = new MemoryStore();
    const first = await createPrimary(server, alice, store);
    await expect(PairwiseClient.open(connectOptions(server, store))).rejects.toBeInstanceOf(DeviceInUseError);
    await first.close();
    const second = await PairwiseClient.open(connectOptions(server, store));
    await second!.ready();
    await second!.close();
  });

  it('a file store is one process at a time: a second process is refused, and a killed one leaves a lock that is taken over', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'pairwise-lock-'));
    try {
      // Another process opens the store and keeps it, as a second copy of a Node client would.
      const holder = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const { FileStore } = await import('@pairwise/client/node/file-store');
           await FileStore.open(${JSON.stringify(directory)});
           console.log('open');
           setInterval(() => {}, 1000);`,
        ],
        { cwd: join(import.meta.dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] },
      );
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('open')) resolve();
        });
        holder.once('exit', (code) => reject(new Error(`the holder exited with ${code}`)));
      });
      await expect(FileStore.open(directory)).rejects.toBeInstanceOf(DeviceInUseError);
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('exit', resolve));
      const store = await FileStore.open(directory);
      const alice = await createPrimary(server, name('alicefile'), store);
      await alice.close();
      await store.close();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('"Use here" moves the device: the old tab stops, messages sent from each tab in turn arrive exactly once, nothing is lost', async () => {
    const alice = name('alicetabs');
    const bob = name('bobtabs');
    const shared = new MemoryStore();
    const phone = await createPrimary(server, alice, new MemoryStore());
    const companion = await linkCompanion(server, phone, { store: shared });
    await companion.close();
    const contact = await createPrimary(server, bob);
    const bobSees = new Map<string, number>();
    contact.on('message', (message) => bobSees.set(message.text, (bobSees.get(message.text) ?? 0) + 1));

    const tabA = new Tab(shared);
    const a = await openIn(tabA);
    const tabB = new Tab(shared);
    // Without asking, the second tab is refused.
    await expect(openIn(tabB)).rejects.toBeInstanceOf(DeviceInUseError);
    await a.sendText(bob, 'from tab A');
    // A message for the computer arrives while it moves.
    const inFlight = contact.sendText(alice, 'while moving');
    const movedAway = a.once('taken-over');
    const b = await openIn(tabB, true);
    await movedAway;
    await inFlight;
    // The old tab is stopped: it sends nothing.
    await expect(a.sendText(bob, 'from the stopped tab')).rejects.toThrow();
    const bReceived: string[] = [];
    b.on('message', (message) => bReceived.push(message.text));
    await b.sendText(bob, 'from tab B');
    await eventually(() => bReceived.includes('while moving'), 10_000, 'the message sent while moving, in the new tab');
    // And back again.
    const backAway = b.once('taken-over');
    const tabA2 = new Tab(shared);
    const a2 = await openIn(tabA2, true);
    await backAway;
    await a2.sendText(bob, 'from tab A again');
    await eventually(() => bobSees.size === 3, 10_000, 'all three messages');
    expect(Object.fromEntries(bobSees)).toEqual({ 'from tab A': 1, 'from tab B': 1, 'from tab A again': 1 });
    await a2.close();
    await contact.close();
    await phone.close();
  });

  it('across random tab switches and crashes no AES-GCM key and nonce is used twice, and every accepted message arrives exactly once', async () => {
    // Every AES-GCM key imported (its bytes, read as they are imported) and every (key, nonce)
    // encrypted under, by any client of this process.
    const subtle = globalThis.crypto.subtle;
    const importKey = subtle.importKey.bind(subtle);
    const encrypt = subtle.encrypt.bind(subtle);
    const keyBytes = new WeakMap<object, string>();
    const used = new Map<string, number>();
    vi.spyOn(subtle, 'importKey').mockImplementation(async (...args: Parameters<typeof subtle.importKey>) => {
      const [format, data, algorithm] = args;
      const key = await importKey(...args);
      const isAes = typeof algorithm === 'object' && (algorithm as { name?: string }).name === 'AES-GCM';
      if (format === 'raw' && isAes) keyBytes.set(key, Buffer.from(data as Uint8Array).toString('hex'));
      return key;
    });
    vi.spyOn(subtle, 'encrypt').mockImplementation(async (...args: Parameters<typeof subtle.encrypt>) => {
      const [algorithm, key] = args;
      const raw = keyBytes.get(key);
      if (raw !== undefined) {
        const id = `${raw}/${Buffer.from((algorithm as unknown as { iv: Uint8Array }).iv).toString('hex')}`;
        used.set(id, (used.get(id) ?? 0) + 1);
      }
      return encrypt(...args);
    });

    const step = fc.oneof(
      fc.record({ kind: fc.constant('send' as const), crashAfterMs: fc.option(fc.integer({ min: 0, max: 30 }), { nil: null }) }),
      fc.record({ kind: fc.constant('switch' as const) }),
      fc.record({ kind: fc.constant('crash' as const) }),
      fc.record({ kind: fc.constant('reply' as const) }),
    );
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 6, maxLength: 12 }), async (steps) => {
        runs += 1;
        const alice = name('aliceprop');
        const bob = name('bobprop');
        const shared = new MemoryStore();
        const aliceClient = await createPrimary(server, alice, shared);
        await aliceClient.close();
        const contact = await createPrimary(server, bob);
        const bobSees = new Map<string, number>();
        contact.on('message', (message) => bobSees.set(message.messageId, (bobSees.get(message.messageId) ?? 0) + 1));
        let tab = new Tab(shared);
        let live = await openIn(tab);
        const accepted = new Set<string>();
        const watch = (client: PairwiseClient) => client.on('sent', (sent) => sent.chatId === bob && accepted.add(sent.messageId));
        watch(live);
        let counter = 0;
        for (const next of steps) {
          if (next.kind === 'send') {
            live.sendText(bob, `message ${++counter}`).catch(() => {});
            if (next.crashAfterMs !== null) {
              // Killed while the send may be anywhere: encrypting, saving, on the wire.
              await new Promise((resolve) => setTimeout(resolve, next.crashAfterMs!));
              await tab.kill();
              tab = new Tab(shared);
              live = await openIn(tab);
              watch(live);
            }
          } else if (next.kind === 'switch') {
            const previous = live;
            tab = new Tab(shared);
            live = await openIn(tab, true);
            await expect(previous.sendText(bob, 'stopped')).rejects.toThrow();
            watch(live);
          } else if (next.kind === 'crash') {
            await tab.kill();
            tab = new Tab(shared);
            live = await openIn(tab);
            watch(live);
          } else {
            await contact.sendText(alice, 'a reply');
          }
        }
        // Whatever was accepted, and whatever the outbox still held, arrives, once.
        await eventually(async () => (await live.pendingMessages()).length === 0, 20_000, 'an empty outbox');
        // Accepted sends include receipts; the texts are those the history holds.
        const texts = new Set((await shared.list<{ messageId: string }>(StoreTable.Messages, `${bob}/`)).map(([, text]) => text.messageId));
        const acceptedTexts = [...accepted].filter((id) => texts.has(id));
        await eventually(() => acceptedTexts.every((id) => bobSees.has(id)), 20_000, 'every accepted message at Bob');
        expect([...bobSees.values()].every((count) => count === 1)).toBe(true);
        await live.close();
        await contact.close();
      }),
      { numRuns: 4, seed: 0xdec1, endOnFailure: true },
    );
    expect(runs).toBe(4);
    // The whole point: no key and nonce pair encrypted twice, over every run.
    expect(used.size).toBeGreaterThan(20);
    expect([...used.entries()].filter(([, count]) => count > 1)).toEqual([]);
  }, 240_000);
});
