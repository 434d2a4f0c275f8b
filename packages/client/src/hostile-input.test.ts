// What a hostile contact or a hostile server can send a device (SPEC RECEIVE-1, CRYPTO-3): 10,000
// random and mutated deliveries through a fake server in this process, then a real message.
import { create, toBinary } from '@bufbuild/protobuf';
import { randomBytes } from '@pairwise/crypto/bytes';
import { Session } from '@pairwise/crypto/session';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { DeliverSchema } from '@pairwise/protocol/wire';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreTable } from './client-store.js';
import { encodeContent } from './content.js';
import type { StoredMessage } from './history.js';
import { MemoryStore } from './memory-store.js';
import { makeFakeAccount, publishedBundle, type FakeAccount } from './test-support/fake-accounts.js';
import { createFakeClient, FakeServer } from './test-support/fake-server.js';
import { ContentSchema } from '@pairwise/protocol/content';

const FLOOD = 10_000;

/** A seeded generator (xorshift32), so that a failing run can be replayed. */
function rng(seed: number) {
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  return {
    next,
    int: (below: number) => Math.floor(next() * below),
    bytes: (length: number) => Uint8Array.from({ length }, () => Math.floor(next() * 256)),
  };
}

/** Node's process, for the unhandled-rejection listener (this package's code never sees it). */
const node = (globalThis as unknown as { process: { on(event: string, listener: (reason: unknown) => void): void; off(event: string, listener: (reason: unknown) => void): void } }).process;
let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled = [];
  node.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  node.off('unhandledRejection', onUnhandled);
});

describe('[RECEIVE-1] [CRYPTO-3] nothing a peer or the server sends can throw or jam the inbox', () => {
  it(`${FLOOD} random and mutated deliveries: nothing escapes, every row is acknowledged, a real message still arrives`, async () => {
    const server = new FakeServer();
    const mallory = await makeFakeAccount('mallory', server.now());
    server.accounts.set('mallory', mallory.report);
    server.on('fetchBundles', () => ({ case: 'bundles', value: { account: mallory.report, bundles: [mallory.bundle] } }));
    const sent = server.sent;

    const store = new MemoryStore();
    const alice = await createFakeClient(server, 'alice', store);
    const aliceDeviceId = alice.deviceId;
    const received: string[] = [];
    alice.on('message', (message) => received.push(message.text));

    // Alice writes first: she holds an initiator's session with Mallory, not answered yet (the
    // state a forged header under Mallory's signed prekey used to crash), and Mallory answers from
    // a session of her own, so that there are real Normal messages to mutate.
    await alice.sendText('mallory', 'hello');
    const toMallory = sent[0]!.envelopes.find((envelope) => envelope.deviceId === mallory.deviceId)!;
    const fromAlice = { local: { accountId: 'mallory', deviceId: mallory.deviceId }, remote: { accountId: 'alice', deviceId: aliceDeviceId } };
    const accepted = await Session.accept(mallory.device, mallory.preKeys, toMallory.content, fromAlice);
    if (!accepted.ok) throw new Error(`Mallory could not read Alice: ${accepted.reason}`);
    const reply = accepted.session;
    const content = (text: string, messageId: Uint8Array, sender = { accountId: 'mallory', deviceId: mallory.deviceId }) =>
      encodeContent({ messageId, sentAt: server.now(), senderAccountId: sender.accountId, senderDeviceId: sender.deviceId, body: { case: 'text', value: { body: text } } });

    const random = rng(0x5eed);
    const genuine = await Promise.all(Array.from({ length: 8 }, async (_, i) => reply.encrypt(content(`real ${i}`, randomBytes(16)))));
    // PreKey messages of a second session Mallory starts with Alice's published prekeys.
    const alicePreKeys = await publishedBundle(store);
    const second = (await Session.initiate(mallory.device, alicePreKeys, { local: fromAlice.local, remote: fromAlice.remote }))!;
    const preKeyMessages = await Promise.all(Array.from({ length: 4 }, async () => second.encrypt(content('pre', randomBytes(16)))));
    // The header attack: a Normal message under Mallory's signed prekey, which Alice holds as DHr.
    const underSignedPreKey = (counter: number) =>
      // Session message version 1, type Normal; ratchet header: version 1, key, PN = 0, N (u32, big-endian).
      Uint8Array.from([1, 2, 1, ...mallory.signedPreKey.keyPair.publicKey, 0, 0, 0, 0, 0, 0, 0, counter, ...random.bytes(24 + random.int(64))]);

    let seq = 0;
    let acknowledged = 0;
    const deliver = (item: NonNullable<MessageInitShape<typeof DeliverSchema>['item']> | null, seqOverride?: number) => {
      const value = seqOverride ?? ++seq;
      if (Number.isSafeInteger(value) && value > 0) acknowledged += 1;
      server.push({ body: { case: 'deliver', value: { seq: value, serverTime: server.now(), ...(item === null ? {} : { item }) } } });
    };
    const message = (bytes: Uint8Array, sender = { accountId: 'mallory', deviceId: mallory.deviceId }, id = randomBytes(16)) =>
      ({ case: 'message', value: { senderAccountId: sender.accountId, senderDeviceId: sender.deviceId, clientMessageId: id, content: bytes } }) as const;
    const mutate = (bytes: Uint8Array): Uint8Array => {
      const copy = bytes.slice();
      switch (random.int(4)) {
        case 0: {
          const at = random.int(copy.length);
          copy[at] = (copy[at] as number) ^ (1 << random.int(8));
          return copy;
        }
        case 1:
          return copy.slice(0, random.int(copy.length));
        case 2:
          return Uint8Array.from([...copy, ...random.bytes(1 + random.int(32))]);
        default:
          return Uint8Array.from([...copy.slice(0, 2), ...random.bytes(copy.length - 2)]);
      }
    };

    for (let i = 0; i < FLOOD; i++) {
      const roll = random.int(100);
      if (roll < 35) deliver(message(mutate(genuine[random.int(genuine.length)]!)));
      else if (roll < 40) deliver(message(mutate(preKeyMessages[random.int(preKeyMessages.length)]!)));
      else if (roll < 50) deliver(message(underSignedPreKey(random.int(5))));
      else if (roll < 62) deliver(message(random.bytes(1 + random.int(300))));
      else if (roll < 70) {
        // Senders that are no one Alice trusts, or ids no server would send.
        const senders = [
          { accountId: 'nobody', deviceId: 'f'.repeat(32) },
          { accountId: 'mallory', deviceId: 'e'.repeat(32) },
          { accountId: '', deviceId: '' },
          { accountId: 'alice', deviceId: aliceDeviceId },
          { accountId: '__proto__', deviceId: 'constructor' },
        ];
        deliver(message(genuine[0]!, senders[random.int(senders.length)]));
      } else if (roll < 75) {
        // A genuine message whose envelope names another message id than its content.
        deliver(message(genuine[random.int(genuine.length)]!, undefined, randomBytes(random.int(3) * 8)));
      } else if (roll < 80) {
        deliver({ case: 'expired', value: { clientMessageId: random.bytes(random.int(20)), recipientAccountId: 'x', recipientDeviceId: '' } });
      } else if (roll < 85) deliver(null);
      else if (roll < 92) server.pushBytes(random.bytes(1 + random.int(200)));
      else {
        // Seqs no server of ours sends: not acknowledged, nothing else goes wrong.
        const odd = [0, -1, Number.NaN, 1.5, 2 ** 60, Number.POSITIVE_INFINITY];
        deliver(message(random.bytes(50)), odd[random.int(odd.length)]);
      }
      // Bursts, so that the client's queue is really loaded.
      if (i % 500 === 499) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const deadline = Date.now() + 120_000;
    while (server.acks.length < acknowledged && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.acks.length).toBe(acknowledged);
    expect(new Set(server.acks).size).toBe(acknowledged);

    // A message Mallory really sent, after all that, arrives.
    const realId = randomBytes(16);
    deliver(message(await reply.encrypt(content('a real message after the flood', realId)), undefined, realId));
    const until = Date.now() + 10_000;
    while (!received.includes('a real message after the flood') && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(received).toContain('a real message after the flood');
    // Nothing forged passed for a message.
    expect(received.filter((text) => text !== 'a real message after the flood')).toEqual([]);
    expect(unhandled).toEqual([]);
    expect(alice.diagnostics.refusedMessages).toBeGreaterThan(FLOOD / 2);
    // One notice per burst, not one per refusal: the chat is not flooded with them.
    const notices = (await store.list<StoredMessage>(StoreTable.Messages)).filter(([, record]) => record.kind === 'notice');
    expect(notices.length).toBeGreaterThan(0);
    expect(notices.length).toBeLessThan(20);
    await alice.close();
  }, 180_000);

  it('a content that names another sender than its envelope is refused, with a notice in the chat (SPEC CONTENT-1)', async () => {
    const server = new FakeServer();
    const mallory = await makeFakeAccount('mallory', server.now());
    const alice = await makeFakeAccount('alice', server.now());
    server.accounts.set('mallory', mallory.report);
    server.accounts.set('alice', alice.report);
    const store = new MemoryStore();
    const bob = await createFakeClient(server, 'bob', store);
    const texts: string[] = [];
    const failures: string[] = [];
    bob.on('message', (received) => texts.push(`${received.senderAccountId}: ${received.text}`));
    bob.on('decrypt-failed', (failure) => failures.push(failure.chatId));
    // Mallory, a genuine contact with a genuine session, writes a content that claims to be Alice's.
    const bundle = await publishedBundle(store);
    const binding = { local: { accountId: 'mallory', deviceId: mallory.deviceId }, remote: { accountId: 'bob', deviceId: bob.deviceId } };
    const session = (await Session.initiate(mallory.device, bundle, binding))!;
    const forgedId = randomBytes(16);
    const forged = toBinary(
      ContentSchema,
      create(ContentSchema, {
        messageId: forgedId,
        sentAt: server.now(),
        senderAccountId: 'alice',
        senderDeviceId: alice.deviceId,
        body: { case: 'text', value: { body: 'this is Alice speaking' } },
      }),
    );
    const item = (content: Uint8Array, id: Uint8Array) =>
      ({ case: 'message', value: { senderAccountId: 'mallory', senderDeviceId: mallory.deviceId, clientMessageId: id, content } }) as const;
    server.push({ body: { case: 'deliver', value: { seq: 1, serverTime: server.now(), item: item(await session.encrypt(forged), forgedId) } } });
    // And a content naming no sender at all.
    const bareId = randomBytes(16);
    const bare = toBinary(ContentSchema, create(ContentSchema, { messageId: bareId, sentAt: 1, body: { case: 'text', value: { body: 'anonymous' } } }));
    server.push({ body: { case: 'deliver', value: { seq: 2, serverTime: server.now(), item: item(await session.encrypt(bare), bareId) } } });
    // Mallory speaking as herself is fine.
    const ownId = randomBytes(16);
    const own = encodeContent({ messageId: ownId, sentAt: 1, senderAccountId: 'mallory', senderDeviceId: mallory.deviceId, body: { case: 'text', value: { body: 'hi, it is Mallory' } } });
    server.push({ body: { case: 'deliver', value: { seq: 3, serverTime: server.now(), item: item(await session.encrypt(own), ownId) } } });
    const until = Date.now() + 5000;
    while (server.acks.length < 3 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(server.acks.sort()).toEqual([1, 2, 3]);
    expect(texts).toEqual(['mallory: hi, it is Mallory']);
    expect(failures).toEqual(['mallory', 'mallory']);
    const notices = (await store.list<StoredMessage>(StoreTable.Messages, 'mallory/')).filter(([, record]) => record.kind === 'notice');
    expect(notices).toHaveLength(1);
    expect(unhandled).toEqual([]);
    await bob.close();
  });
});

describe('[RECEIVE-1] a device that is not current is not trusted, whatever the server delivers', () => {
  it('refuses a companion that has not attested and a companion of an expired list, and takes the primary of that list', async () => {
    const server = new FakeServer();
    const unattested = await makeFakeAccount('mallory_u', server.now(), { companion: 'unattested' });
    const expired = await makeFakeAccount('mallory_e', server.now(), { companion: 'attested', listExpiresAt: server.now() - 1 });
    for (const fake of [unattested, expired]) server.accounts.set(fake.accountId, fake.report);
    const store = new MemoryStore();
    const bob = await createFakeClient(server, 'bob', store);
    const texts: string[] = [];
    const failures: string[] = [];
    bob.on('message', (received) => texts.push(`${received.senderAccountId}: ${received.text}`));
    bob.on('decrypt-failed', (failure) => failures.push(failure.senderDeviceId));
    let seq = 0;
    const deliver = async (accountId: string, deviceId: string, device: FakeAccount['device'], text: string) => {
      // A fresh session each time: each sender device starts its own with Bob's published bundle.
      const binding = { local: { accountId, deviceId }, remote: { accountId: 'bob', deviceId: bob.deviceId } };
      const session = (await Session.initiate(device, await publishedBundle(store), binding))!;
      const id = randomBytes(16);
      const content = encodeContent({ messageId: id, sentAt: 1, senderAccountId: accountId, senderDeviceId: deviceId, body: { case: 'text', value: { body: text } } });
      const item = { case: 'message', value: { senderAccountId: accountId, senderDeviceId: deviceId, clientMessageId: id, content: await session.encrypt(content) } } as const;
      server.push({ body: { case: 'deliver', value: { seq: ++seq, serverTime: server.now(), item } } });
    };
    await deliver('mallory_u', unattested.companion!.deviceId, unattested.companion!.device, 'from an unattested companion');
    await deliver('mallory_e', expired.companion!.deviceId, expired.companion!.device, 'from a companion of an expired list');
    await deliver('mallory_e', expired.deviceId, expired.device, 'from the primary of an expired list');
    const until = Date.now() + 5000;
    while (server.acks.length < 3 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(server.acks.sort()).toEqual([1, 2, 3]);
    expect(texts).toEqual(['mallory_e: from the primary of an expired list']);
    expect(failures.sort()).toEqual([unattested.companion!.deviceId, expired.companion!.deviceId].sort());
    expect(unhandled).toEqual([]);
    await bob.close();
  });
});

describe('[RECEIVE-1] a busy server is not a reason to refuse', () => {
  it('a genuine message whose sender the server could not report just then is not acknowledged, and reads when delivered again', async () => {
    const server = new FakeServer();
    const mallory = await makeFakeAccount('mallory', server.now());
    const store = new MemoryStore();
    const bob = await createFakeClient(server, 'bob', store);
    const texts: string[] = [];
    const failures: string[] = [];
    bob.on('message', (received) => texts.push(received.text));
    bob.on('decrypt-failed', (failure) => failures.push(failure.senderDeviceId));
    // Bob does not know Mallory yet, and the server is too busy to say who she is.
    server.on('getAccountDevices', () => ({ error: 'RATE_LIMITED' }));
    const binding = { local: { accountId: 'mallory', deviceId: mallory.deviceId }, remote: { accountId: 'bob', deviceId: bob.deviceId } };
    const session = (await Session.initiate(mallory.device, await publishedBundle(store), binding))!;
    const id = randomBytes(16);
    const content = encodeContent({ messageId: id, sentAt: 1, senderAccountId: 'mallory', senderDeviceId: mallory.deviceId, body: { case: 'text', value: { body: 'hello Bob' } } });
    const item = { case: 'message', value: { senderAccountId: 'mallory', senderDeviceId: mallory.deviceId, clientMessageId: id, content: await session.encrypt(content) } } as const;
    const frame = { body: { case: 'deliver', value: { seq: 1, serverTime: server.now(), item } } } as const;
    server.push(frame);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.acks).toEqual([]);
    expect(failures).toEqual([]);
    // Later the server answers, and the row (delivered again, as at the next connection) reads.
    server.accounts.set('mallory', mallory.report);
    server.on('getAccountDevices', (value) => ({ case: 'accountDevices', value: server.accounts.get((value as { accountId: string }).accountId)! }));
    server.push(frame);
    const until = Date.now() + 5000;
    // Acknowledgements go out in batches, a moment after the message is stored.
    while ((texts.length === 0 || server.acks.length === 0) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(texts).toEqual(['hello Bob']);
    expect(server.acks).toEqual([1]);
    expect(unhandled).toEqual([]);
    await bob.close();
  });
});
