// Sends to a contact none of whose devices can receive yet (SPEC DEVICES-2, FANOUT-1, SEND-1):
// each asks the server once with an envelope-less send, then waits without asking again until a
// report shows a device; a contact whose account is gone fails them for "Retry" at the next check.
import { describe, expect, it } from 'vitest';
import { SendFailedError } from './errors.js';
import { MemoryStore } from './memory-store.js';
import { makeFakeAccount } from './test-support/fake-accounts.js';
import { createFakeClient, FakeServer } from './test-support/fake-server.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Alice, and Carol whose only device has not attested: the server can deliver nothing to her. */
async function setUp() {
  const server = new FakeServer();
  const carol = await makeFakeAccount('carol', server.now());
  server.accounts.set('carol', { ...carol.report, attestations: [] });
  let reachable = false;
  server.on('sendMessage', () => (reachable ? { case: 'sendResult', value: { serverTime: server.now(), duplicate: false } } : { error: 'RECIPIENT_UNAVAILABLE' }));
  server.on('fetchBundles', () => ({ case: 'bundles', value: { account: carol.report, bundles: [carol.bundle] } }));
  const alice = await createFakeClient(server, 'alice', new MemoryStore());
  const outcomes: string[] = [];
  const send = (text: string) =>
    alice.sendText('carol', text).then(
      () => outcomes.push(`${text}: sent`),
      (error: unknown) => outcomes.push(`${text}: ${error instanceof SendFailedError ? error.code : String(error)}`),
    );
  const reports = () => server.requests.filter((request) => request.case === 'getAccountDevices').length;
  return { server, carol, alice, outcomes, send, reports, attest: () => (reachable = true) };
}

describe('[DEVICES-2] [FANOUT-1] sends to a contact without a current device', () => {
  it('ask once each, then wait without asking again, and go when a report shows a device', async () => {
    const { server, carol, alice, outcomes, send, reports, attest } = await setUp();
    const sends = Promise.all([send('one'), send('two')]);
    await pause(400);
    expect(outcomes).toEqual([]);
    // One envelope-less probe per message: nothing is encrypted for nobody.
    expect(server.sent).toHaveLength(2);
    expect(server.sent.every((sent) => sent.envelopes.length === 0)).toBe(true);
    const asked = reports();
    await pause(600);
    // Waiting, not polling: two waiting sends do not wake each other up.
    expect(server.sent).toHaveLength(2);
    expect(reports()).toBe(asked);
    expect(await alice.pendingMessages()).toHaveLength(2);

    // Carol's phone attests; the server pushes her devices.
    attest();
    server.accounts.set('carol', carol.report);
    server.push({ body: { case: 'deviceListChanged', value: { account: carol.report } } });
    await sends;
    expect(outcomes.sort()).toEqual(['one: sent', 'two: sent']);
    const delivered = server.sent.slice(2);
    expect(delivered).toHaveLength(2);
    for (const sent of delivered) expect(sent.envelopes.map((envelope) => envelope.deviceId)).toEqual([carol.deviceId]);
    expect(await alice.pendingMessages()).toEqual([]);
    await alice.close();
  });

  it('fail for "Retry" when, at the next connection, the account turns out to be gone', async () => {
    const { server, alice, outcomes, send } = await setUp();
    const sent = send('into the void');
    await pause(300);
    expect(outcomes).toEqual([]);
    server.accounts.delete('carol');
    server.on('sendMessage', () => ({ error: 'UNKNOWN_ACCOUNT' }));
    server.dropConnections();
    await sent;
    expect(outcomes).toEqual(['into the void: UNKNOWN_ACCOUNT']);
    const pending = await alice.pendingMessages();
    expect(pending.map((message) => [message.chatId, message.failure?.code])).toEqual([['carol', 'UNKNOWN_ACCOUNT']]);
    await alice.close();
  }, 30_000);
});
