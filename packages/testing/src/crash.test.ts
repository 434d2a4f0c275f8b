// Integration: the server is killed (SIGKILL, no shutdown code) in the middle of a stream of
// sends. No acknowledged message may be lost and none may arrive twice (SPEC INBOX-2, INBOX-5).
import { describe, expect, it } from 'vitest';
import type { ServerProcess } from './server-process.js';
import { useServerProcess } from './test-support/use-server-process.js';
import { createPrimary, eventually } from './test-clients.js';

let server: ServerProcess;
useServerProcess({ get: () => server, set: (started) => (server = started) });

describe('[INBOX-2] [INBOX-5] crash safety', () => {
  it('SIGKILL mid-stream loses no acknowledged message and duplicates none after restart', async () => {
    const alice = await createPrimary(server, 'alice_crash');
    const bob = await createPrimary(server, 'bob_crash');
    const received: string[] = [];
    bob.on('message', (message) => received.push(message.text));

    const total = 150;
    const acknowledged = new Set<string>();
    const sends = Array.from({ length: total }, (_, i) => {
      const text = `message ${i}`;
      return alice.sendText('bob_crash', text).then(() => acknowledged.add(text));
    });
    await eventually(() => acknowledged.size >= 40, 20_000, 'some acknowledged sends');
    await server.kill();
    const acknowledgedBeforeCrash = [...acknowledged];
    expect(acknowledgedBeforeCrash.length).toBeLessThan(total);

    server = await server.restart();
    await Promise.all(sends);
    await eventually(() => new Set(received).size === total, 30_000, 'every message after restart');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(received.length).toBe(total); // none twice
    for (const text of acknowledgedBeforeCrash) expect(received).toContain(text);
    await alice.close();
    await bob.close();
  }, 90_000);
});
