// Integration: a real server process and several SDK clients over real WebSockets.
import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '@pairwise/client/client-events';
import { MemoryStore } from '@pairwise/client/memory-store';
import { PairwiseClient } from '@pairwise/client/pairwise-client';
import type { ServerProcess } from './server-process.js';
import { useServerProcess } from './test-support/use-server-process.js';
import { connectOptions, createPrimary, eventually, linkCompanion } from './test-clients.js';

let server: ServerProcess;
useServerProcess({ get: () => server, set: (started) => (server = started) });

/** Records every text message a client sees, in arrival order. */
function inbox(client: PairwiseClient): ChatMessage[] {
  const seen: ChatMessage[] = [];
  client.on('message', (message) => seen.push(message));
  return seen;
}

async function account(name: string) {
  const primary = await createPrimary(server, name);
  const companions = [await linkCompanion(server, primary), await linkCompanion(server, primary)];
  return { primary, companions, all: [primary, ...companions] };
}

describe('[INBOX-1] [FANOUT-1] two accounts with a phone and two companions each', () => {
  it('every message arrives decrypted exactly once on all six devices', async () => {
    const alice = await account('alice6');
    const bob = await account('bob6');
    const logs = new Map([...alice.all, ...bob.all].map((client) => [client, inbox(client)]));
    const fails: unknown[] = [];
    for (const client of [...alice.all, ...bob.all]) client.on('decrypt-failed', (event) => fails.push({ at: client.deviceId, ...event }));

    const sentBy = new Map<PairwiseClient, string>();
    for (let i = 0; i < 3; i++) {
      sentBy.set(alice.all[i]!, `from alice device ${i}`);
      await alice.all[i]!.sendText('bob6', `from alice device ${i}`);
      sentBy.set(bob.all[i]!, `from bob device ${i}`);
      await bob.all[i]!.sendText('alice6', `from bob device ${i}`);
    }
    const everything = [...sentBy.values()];
    for (const [client, log] of logs) {
      await eventually(() => log.length >= 5, 10_000, `messages on ${client.deviceId}: got ${JSON.stringify(log.map((m) => m.text))}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 300)); // nothing more may come
    for (const [client, log] of logs) {
      // Every text but its own: the other account's three, and its own account's other two
      // (copies sent to the sender's other devices), each exactly once.
      expect(log.map((message) => message.text).sort()).toEqual(everything.filter((text) => text !== sentBy.get(client)).sort());
      for (const message of log) expect(message.outgoing).toBe(message.senderAccountId === client.accountId);
    }
    // Not one envelope failed to decrypt anywhere (simultaneous session starts included).
    expect(fails).toEqual([]);
  });
});

describe('[INBOX-3] offline devices', () => {
  it('a device that was offline receives everything, in order, when it reconnects', async () => {
    const alice = await createPrimary(server, 'alice_off');
    const bob = await createPrimary(server, 'bob_off');
    const store = new MemoryStore();
    const laptop = await linkCompanion(server, bob, { store });
    await alice.sendText('bob_off', 'hello');
    const early = inbox(laptop);
    await eventually(() => early.length === 1, 5000, 'first message');
    await laptop.close();

    for (let i = 0; i < 20; i++) await alice.sendText('bob_off', `while away ${i}`);
    const back = (await PairwiseClient.open(connectOptions(server, store)))!;
    const later = inbox(back);
    await eventually(() => later.length === 20, 10_000, 'backlog');
    expect(later.map((message) => message.text)).toEqual(Array.from({ length: 20 }, (_, i) => `while away ${i}`));
  });
});
