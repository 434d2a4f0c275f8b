// Integration: a companion's link screen renews its code every 25 s and stops after 5 minutes
// (SPEC LINK-2). Timers are faked; the server and the network are real.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { LinkRequest } from '@pairwise/client/link-request';
import { MemoryStore } from '@pairwise/client/memory-store';
import { decodeLinkQr } from '@pairwise/protocol/link-qr';
import { LINK_SESSION_MS, LINK_TOKEN_ROTATE_MS } from '@pairwise/protocol/limits';
import type { ServerProcess } from './server-process.js';
import { useServerProcess } from './test-support/use-server-process.js';
import { connectOptions } from './test-clients.js';

let server: ServerProcess;
useServerProcess({ get: () => server, set: (started) => (server = started) });

afterAll(() => {
  vi.useRealTimers();
});

describe('[LINK-2] the link screen', () => {
  it('shows a new single-use code every 25 s, then stops after 5 minutes', async () => {
    let now = Date.now();
    const request = new LinkRequest({ ...connectOptions(server, new MemoryStore()), deviceName: 'Test browser', now: () => now });
    const codes: string[] = [];
    request.on('qr', ({ text }) => codes.push(text));
    const expired = request.once('expired');
    // Faked before start, so that the first renewal timer is a fake one too.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      await request.start();
      expect(codes).toHaveLength(1);
      const rotations = Math.floor(LINK_SESSION_MS / LINK_TOKEN_ROTATE_MS);
      for (let i = 1; i <= rotations; i++) {
        now += LINK_TOKEN_ROTATE_MS;
        const next = request.once('qr');
        const done = request.once('expired');
        await vi.advanceTimersByTimeAsync(LINK_TOKEN_ROTATE_MS);
        await Promise.race([next, done]);
      }
      now += LINK_TOKEN_ROTATE_MS;
      await vi.advanceTimersByTimeAsync(LINK_TOKEN_ROTATE_MS);
      await expired;
    } finally {
      vi.useRealTimers();
    }
    // Every code differs (fresh 128-bit tokens), and none came after the 5 minutes were up.
    const tokens = codes.map((code) => Buffer.from(decodeLinkQr(code)!.token).toString('hex'));
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(tokens.length).toBe(Math.ceil(LINK_SESSION_MS / LINK_TOKEN_ROTATE_MS));
  });
});
