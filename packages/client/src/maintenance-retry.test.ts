// A maintenance step that fails (here the signed prekey rotation's upload, SPEC PREKEYS-2) is
// tried again within seconds, not only at the next connection or a day later.
import { SIGNED_PREKEY_ROTATION_MS } from '@pairwise/protocol/limits';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from './memory-store.js';
import { PairwiseClient } from './pairwise-client.js';
import { FAKE_ORIGIN, FakeServer, createFakeClient } from './test-support/fake-server.js';

describe('[PREKEYS-2] maintenance after a failure', () => {
  it('uploads a due rotation again a few seconds after the server was busy', async () => {
    const server = new FakeServer();
    const store = new MemoryStore();
    const first = await createFakeClient(server, 'alice', store);
    await first.close();
    server.advance(SIGNED_PREKEY_ROTATION_MS + 1);
    let busy = true;
    server.on('uploadPreKeys', () => (busy ? { error: 'SERVER_BUSY' } : { case: 'preKeyStatus', value: { oneTimePreKeys: 100, pqOneTimePreKeys: 100 } }));
    const uploads = () => server.requests.filter((request) => request.case === 'uploadPreKeys').length;

    const client = (await PairwiseClient.open({ origin: FAKE_ORIGIN, url: 'ws://fake/ws', socketFactory: server.socketFactory, store, now: server.now }))!;
    await client.ready();
    const until = async (predicate: () => boolean, ms: number) => {
      const deadline = Date.now() + ms;
      while (!predicate() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    };
    await until(() => uploads() === 1, 2000);
    expect(uploads()).toBe(1);
    busy = false;
    await until(() => uploads() === 2, 8000);
    expect(uploads()).toBe(2);
    await client.close();
  }, 15_000);
});
