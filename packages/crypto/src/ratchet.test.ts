// Double Ratchet behaviour, example by example; ratchet.property.test.ts covers random schedules.
import { describe, expect, it } from 'vitest';
import { bytesEqual, fromUtf8, randomBytes, utf8 } from './bytes.js';
import { ByteWriter } from './encoding.js';
import {
  DecryptFailure,
  DoubleRatchet,
  kdfChain,
  MAX_SKIP,
  MAX_SKIPPED_KEYS,
  RATCHET_HEADER_BYTES,
  type RatchetRecord,
} from './ratchet.js';
import { ratchetPair } from './test-support/fixtures.js';
import { generateX25519KeyPair } from './x25519.js';

async function read(ratchet: DoubleRatchet, message: Uint8Array): Promise<string> {
  const result = await ratchet.decrypt(message);
  if (!result.ok) throw new Error(`refused: ${result.reason}`);
  return fromUtf8(result.plaintext);
}

/** Every byte array reachable in a record, to search it for secrets. */
function bytesIn(record: RatchetRecord): Uint8Array[] {
  return [
    record.associatedData,
    record.rootKey,
    record.ownRatchetKey.publicKey,
    ...[record.remoteRatchetKey, record.sendingChainKey, record.receivingChainKey].filter((b) => b !== null),
    ...record.previousRemoteRatchetKeys,
    ...record.skipped.flatMap((entry) => [entry.ratchetKey, entry.messageKey]),
  ];
}

describe('[RATCHET-1] delivery', () => {
  it('a conversation in both directions decrypts in order', async () => {
    const { alice, bob } = await ratchetPair();
    expect(bob.canSend).toBe(false);
    expect(await read(bob, await alice.encrypt(utf8('hi bob')))).toBe('hi bob');
    expect(await read(alice, await bob.encrypt(utf8('hi alice')))).toBe('hi alice');
    expect(await read(bob, await alice.encrypt(utf8('how are you?')))).toBe('how are you?');
    expect(await read(bob, await alice.encrypt(utf8('still there?')))).toBe('still there?');
    expect(await read(alice, await bob.encrypt(utf8('yes')))).toBe('yes');
  });

  it('out-of-order messages across ratchet steps decrypt, each exactly once', async () => {
    const { alice, bob } = await ratchetPair();
    const a1 = await alice.encrypt(utf8('a1'));
    const a2 = await alice.encrypt(utf8('a2'));
    expect(await read(bob, a2)).toBe('a2');
    expect(bob.skippedKeyCount).toBe(1);
    const b1 = await bob.encrypt(utf8('b1'));
    expect(await read(alice, b1)).toBe('b1');
    const a3 = await alice.encrypt(utf8('a3'));
    expect(await read(bob, a3)).toBe('a3');
    expect(await read(bob, a1)).toBe('a1');
    expect(bob.skippedKeyCount).toBe(0);
    for (const replay of [a1, a2, a3]) {
      expect(await bob.decrypt(replay)).toEqual({ ok: false, reason: DecryptFailure.Duplicate });
    }
  });

  it('concurrent calls on one session are serialised and all succeed', async () => {
    const { alice, bob } = await ratchetPair();
    const messages = await Promise.all(Array.from({ length: 20 }, (_, i) => alice.encrypt(utf8(`m${i}`))));
    const texts = await Promise.all(messages.map((message) => read(bob, message)));
    expect(new Set(texts).size).toBe(20);
  });

  it('a responder cannot send before it has received', async () => {
    const { bob } = await ratchetPair();
    await expect(bob.encrypt(utf8('too early'))).rejects.toThrow(/cannot send before/);
  });
});

describe('[RATCHET-2] MAX_SKIP', () => {
  it(`skipping ${MAX_SKIP} is allowed, one more is refused, and the session is unharmed`, async () => {
    const { alice, bob } = await ratchetPair();
    const sent: Uint8Array[] = [];
    for (let i = 0; i < MAX_SKIP + 2; i++) sent.push(await alice.encrypt(utf8(`m${i}`)));
    expect(await bob.decrypt(sent[MAX_SKIP + 1] as Uint8Array)).toEqual({
      ok: false,
      reason: DecryptFailure.TooManySkipped,
    });
    expect(bob.skippedKeyCount).toBe(0);
    expect(await read(bob, sent[MAX_SKIP] as Uint8Array)).toBe(`m${MAX_SKIP}`);
    expect(bob.skippedKeyCount).toBe(MAX_SKIP);
    expect(await read(bob, sent[MAX_SKIP + 1] as Uint8Array)).toBe(`m${MAX_SKIP + 1}`);
    expect(await read(bob, sent[0] as Uint8Array)).toBe('m0');
  });
});

describe('[RATCHET-6] bounded skipped keys', () => {
  it(`keeps at most ${MAX_SKIPPED_KEYS} skipped keys, dropping the oldest`, async () => {
    const { alice, bob } = await ratchetPair();
    const first: Uint8Array[] = [];
    for (let i = 0; i < MAX_SKIP + 1; i++) first.push(await alice.encrypt(utf8(`x${i}`)));
    await read(bob, first[MAX_SKIP] as Uint8Array); // skips 1000 keys of chain 1
    await read(alice, await bob.encrypt(utf8('ack')));
    const second: Uint8Array[] = [];
    for (let i = 0; i < MAX_SKIP + 1; i++) second.push(await alice.encrypt(utf8(`y${i}`)));
    await read(bob, second[MAX_SKIP] as Uint8Array); // skips 1000 more of chain 2
    await read(alice, await bob.encrypt(utf8('ack')));
    const third = [await alice.encrypt(utf8('z0')), await alice.encrypt(utf8('z1'))];
    await read(bob, third[1] as Uint8Array); // one more: 2001 in all
    expect(bob.skippedKeyCount).toBe(MAX_SKIPPED_KEYS);
    expect(await bob.decrypt(first[0] as Uint8Array)).toEqual({ ok: false, reason: DecryptFailure.Duplicate });
    expect(await read(bob, first[1] as Uint8Array)).toBe('x1');
    expect(await read(bob, third[0] as Uint8Array)).toBe('z0');
  });
});

describe('[RATCHET-3] tampering', () => {
  it('refuses a truncated or unknown-version message as malformed, without changing state', async () => {
    const { alice, bob } = await ratchetPair();
    const message = await alice.encrypt(utf8('hello'));
    expect(await bob.decrypt(message.subarray(0, RATCHET_HEADER_BYTES + 10))).toEqual({
      ok: false,
      reason: DecryptFailure.Malformed,
    });
    const otherVersion = message.slice();
    otherVersion[0] = 2;
    expect((await bob.decrypt(otherVersion)).ok).toBe(false);
    expect(await read(bob, message)).toBe('hello');
  });

  it('refuses a message bound to other associated data', async () => {
    const one = await ratchetPair();
    const two = await ratchetPair();
    const message = await one.alice.encrypt(utf8('for one.bob'));
    expect((await two.bob.decrypt(message)).ok).toBe(false);
    expect(await read(one.bob, message)).toBe('for one.bob');
  });
});

describe('[CRYPTO-3] forged headers are refusals, never exceptions', () => {
  it("a message under the responder's signed prekey, sent to an initiator that has not heard back, is refused as invalid-key and changes nothing", async () => {
    const secret = randomBytes(32);
    const associatedData = randomBytes(64);
    const bobPreKey = await generateX25519KeyPair();
    const alice = await DoubleRatchet.initiator(secret, associatedData, bobPreKey.publicKey);
    const bob = DoubleRatchet.responder(secret, associatedData, bobPreKey);
    const before = alice.snapshot();
    for (const counter of [0, 1, 999]) {
      // What a hostile peer can write without any key: its header names the key Alice holds as DHr.
      const header = new ByteWriter().u8(1).fixed(bobPreKey.publicKey, 32).u32(0).u32(counter).finish();
      const forged = Uint8Array.from([...header, ...randomBytes(40)]);
      expect(await alice.decrypt(forged)).toEqual({ ok: false, reason: DecryptFailure.InvalidKey });
    }
    expect(alice.snapshot()).toEqual(before);
    // The session is unharmed: Bob reads Alice, Alice reads Bob's reply.
    expect(await read(bob, await alice.encrypt(utf8('still here')))).toBe('still here');
    expect(await read(alice, await bob.encrypt(utf8('and me')))).toBe('and me');
  });
});

describe('[RATCHET-7] the state is stored before a message key is used', () => {
  it('beforeUse sees the state already past the key; a failure there encrypts nothing and the key is never used', async () => {
    const { alice, bob } = await ratchetPair();
    let stored = alice.snapshot();
    const first = await alice.encrypt(utf8('one'), () => {
      stored = alice.snapshot();
      return Promise.resolve();
    });
    // What was stored is already one message on: restored, it encrypts under the next key.
    const restored = DoubleRatchet.restore(structuredClone(stored));
    const next = await restored.encrypt(utf8('two'));
    expect(await read(bob, first)).toBe('one');
    expect(await read(bob, next)).toBe('two');
    // The store fails: nothing is encrypted, and the lost key is skipped, not reused.
    await expect(alice.encrypt(utf8('lost'), () => Promise.reject(new Error('disk full')))).rejects.toThrow('disk full');
    const after = await alice.encrypt(utf8('three'));
    expect(after.subarray(37, 41)).toEqual(Uint8Array.of(0, 0, 0, 2));
  });
});

describe('[RATCHET-4] serialisation', () => {
  it('a structured-cloned snapshot restores and continues in both directions', async () => {
    const { alice, bob } = await ratchetPair();
    await read(bob, await alice.encrypt(utf8('before')));
    const pending = await alice.encrypt(utf8('in flight'));
    const bobRecord = structuredClone(bob.snapshot());
    const aliceRecord = structuredClone(alice.snapshot());
    expect(bobRecord.ownRatchetKey.privateKey.extractable).toBe(false);
    const bob2 = DoubleRatchet.restore(bobRecord);
    const alice2 = DoubleRatchet.restore(aliceRecord);
    expect(await read(bob2, pending)).toBe('in flight');
    expect(await read(alice2, await bob2.encrypt(utf8('after restore')))).toBe('after restore');
    expect(await read(bob2, await alice2.encrypt(utf8('and back')))).toBe('and back');
  });

  it('refuses a record that is not one, naming what is wrong', () => {
    expect(() => DoubleRatchet.restore({ version: 2 } as never)).toThrow(TypeError);
  });
});

describe('[RATCHET-5] forward secrecy', () => {
  it('the message and chain keys of a read message are in neither side’s state afterwards', async () => {
    const { alice, bob } = await ratchetPair();
    await read(bob, await alice.encrypt(utf8('warm up')));
    await read(alice, await bob.encrypt(utf8('reply')));

    const chainKey = alice.snapshot().sendingChainKey as Uint8Array;
    const [messageKey] = await kdfChain(chainKey);
    const message = await alice.encrypt(utf8('secret'));
    expect(await read(bob, message)).toBe('secret');

    for (const record of [alice.snapshot(), bob.snapshot()]) {
      for (const bytes of bytesIn(record)) {
        expect(bytesEqual(bytes, messageKey)).toBe(false);
        expect(bytesEqual(bytes, chainKey)).toBe(false);
      }
    }
  });

  it('a state captured after a message was read cannot read it again', async () => {
    const { alice, bob } = await ratchetPair();
    const early = await alice.encrypt(utf8('early'));
    const late = await alice.encrypt(utf8('late'));
    expect(await read(bob, late)).toBe('late');
    const captured = DoubleRatchet.restore(structuredClone(bob.snapshot()));
    // The skipped key for "early" is still held (it was never read) ...
    expect(await read(captured, early)).toBe('early');
    // ... but "late", already read when the state was captured, is gone for good.
    expect(await captured.decrypt(late)).toEqual({ ok: false, reason: DecryptFailure.Duplicate });
    expect(await read(bob, early)).toBe('early');
    const afterBoth = DoubleRatchet.restore(structuredClone(bob.snapshot()));
    expect((await afterBoth.decrypt(early)).ok).toBe(false);
    expect(afterBoth.skippedKeyCount).toBe(0);
  });
});
