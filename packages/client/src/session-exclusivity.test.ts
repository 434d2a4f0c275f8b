// One peer device's sessions are changed by one thing at a time (SPEC RECEIVE-2, RATCHET-7): a
// send while a received message is being stored must not store the receive's ratchet step before
// the message itself, and a receive that fails half-way leaves the stored sessions as they were.
import { randomBytes } from '@pairwise/crypto/bytes';
import { Session } from '@pairwise/crypto/session';
import { describe, expect, it } from 'vitest';
import { StoreTable } from './client-store.js';
import { encodeContent } from './content.js';
import { MemoryStore } from './memory-store.js';
import { StoreClosedError } from './store-errors.js';
import { makeFakeAccount, publishedBundle } from './test-support/fake-accounts.js';
import { createFakeClient, FakeServer } from './test-support/fake-server.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A memory store whose next write of a received message waits until the test lets it go (or fails it). */
class GatedStore extends MemoryStore {
  /** The gate for the next write, and the one a write waits at. */
  private gate: { opened: Promise<void>; open: () => void; fail: () => void } | null = null;
  private held: { opened: Promise<void>; open: () => void; fail: () => void } | null = null;
  /** Resolves when a write reached the gate. */
  reached: Promise<void> = Promise.resolve();
  private arrive = () => {};

  hold(): void {
    let open = () => {};
    let fail = () => {};
    const opened = new Promise<void>((resolve, reject) => {
      open = resolve;
      fail = () => reject(new StoreClosedError('the store is closing'));
    });
    this.gate = { opened, open, fail };
    this.held = this.gate;
    this.reached = new Promise((resolve) => (this.arrive = resolve));
  }

  release(): void {
    this.held?.open();
  }

  failHeld(): void {
    this.held?.fail();
  }

  override async put<T>(table: StoreTable, key: string, value: T): Promise<void> {
    const gate = this.gate;
    if (gate !== null && table === StoreTable.Messages && (value as { outgoing?: boolean }).outgoing === false) {
      this.gate = null;
      this.arrive();
      await gate.opened;
    }
    return super.put(table, key, value);
  }
}

async function setUp() {
  const server = new FakeServer();
  const mallory = await makeFakeAccount('mallory', server.now());
  server.accounts.set('mallory', mallory.report);
  const store = new GatedStore();
  const bob = await createFakeClient(server, 'bob', store);
  // Mallory starts a session with Bob's published prekeys and writes to him.
  const binding = { local: { accountId: 'mallory', deviceId: mallory.deviceId }, remote: { accountId: 'bob', deviceId: bob.deviceId } };
  const session = (await Session.initiate(mallory.device, await publishedBundle(store), binding))!;
  let seq = 0;
  const deliver = async (text: string) => {
    const id = randomBytes(16);
    const content = encodeContent({ messageId: id, sentAt: 1, senderAccountId: 'mallory', senderDeviceId: mallory.deviceId, body: { case: 'text', value: { body: text } } });
    const item = { case: 'message', value: { senderAccountId: 'mallory', senderDeviceId: mallory.deviceId, clientMessageId: id, content: await session.encrypt(content) } } as const;
    const frame = { body: { case: 'deliver', value: { seq: ++seq, serverTime: server.now(), item } } } as const;
    server.push(frame);
    return () => server.push(frame);
  };
  const sessionsKey = `mallory/${mallory.deviceId}`;
  return { server, sent: server.sent, mallory, store, bob, session, deliver, storedSessions: () => store.get(StoreTable.Sessions, sessionsKey) };
}

describe('[RECEIVE-2] [RATCHET-7] one peer device, one change at a time', () => {
  it('a send while a received message is being stored waits, and stores nothing of the receive before the message', async () => {
    const { sent, mallory, store, bob, session, deliver, storedSessions } = await setUp();
    const texts: string[] = [];
    bob.on('message', (message) => texts.push(message.text));
    store.hold();
    await deliver('hello Bob');
    await store.reached;
    // The session Bob accepted is in memory only, its message not stored yet. A send now must not
    // write it: a crash then would lose "hello Bob" (the stored ratchet already past its key).
    const reply = bob.sendText('mallory', 'hello Mallory');
    await pause(300);
    expect(await storedSessions()).toBeUndefined();
    expect(sent).toEqual([]);

    store.release();
    await reply;
    expect(texts).toEqual(['hello Bob']);
    expect(await storedSessions()).toBeDefined();
    // The reply went out in that same session, and Mallory reads it.
    expect(sent).toHaveLength(1);
    const envelope = sent[0]!.envelopes.find((candidate) => candidate.deviceId === mallory.deviceId)!;
    const read = await session.decrypt(envelope.content);
    expect(read.ok).toBe(true);
    await bob.close();
  });

  it('a receive that fails between decryption and storing leaves the sessions to read the message again', async () => {
    const { bob, store, deliver, storedSessions, server } = await setUp();
    const texts: string[] = [];
    bob.on('message', (message) => texts.push(message.text));
    const first = await deliver('first');
    await pause(200);
    expect(texts).toEqual(['first']);
    const stored = await storedSessions();

    // The second message decrypts, then its store fails (the device is closing): not acknowledged.
    store.hold();
    const again = await deliver('second');
    await store.reached;
    store.failHeld();
    await pause(200);
    expect(server.acks).toEqual([1]);
    expect(await storedSessions()).toEqual(stored);
    // Delivered again (as at the next connection), it reads: the session in memory was put back.
    again();
    await pause(300);
    expect(texts).toEqual(['first', 'second']);
    expect(server.acks).toEqual([1, 2]);
    // And the first, delivered again, is dropped as seen.
    first();
    await pause(200);
    expect(texts).toEqual(['first', 'second']);
    await bob.close();
  });
});
