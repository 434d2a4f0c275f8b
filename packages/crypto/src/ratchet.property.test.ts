// Property tests of the Double Ratchet over random schedules: sends in both directions,
// deliveries in any order, losses, duplicates, restarts from a snapshot, and tampering.
// Seeded, so a failure reproduces; fast-check prints the seed and the shrunk counterexample.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromUtf8, utf8 } from './bytes.js';
import { DecryptFailure, DoubleRatchet } from './ratchet.js';
import { ratchetPair } from './test-support/fixtures.js';

const SEED = 0x5eed_2026;

type Party = 'alice' | 'bob';
const Action = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('send' as const), from: fc.constantFrom<Party>('alice', 'bob') }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), who: fc.constantFrom<Party>('alice', 'bob') }) },
);

interface InFlight {
  readonly to: Party;
  readonly text: string;
  readonly bytes: Uint8Array;
}

describe('[RATCHET-1] [RATCHET-4] random schedules', () => {
  it('every message not lost decrypts exactly once, in any order, across restarts', async () => {
    const totals = { read: 0, lost: 0, outOfOrder: 0, duplicates: 0, restarts: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(Action, { minLength: 20, maxLength: 80, size: 'max' }), async (actions) => {
        const parties: Record<Party, DoubleRatchet> = await ratchetPair();
        const inFlight: InFlight[] = [];
        const delivered: InFlight[] = [];
        const read = new Set<string>();
        const lost = new Set<string>();
        let sent = 0;

        const deliver = async (message: InFlight): Promise<void> => {
          const result = await parties[message.to].decrypt(message.bytes);
          if (!result.ok) throw new Error(`${message.text} refused: ${result.reason}`);
          expect(fromUtf8(result.plaintext)).toBe(message.text);
          expect(read.has(message.text)).toBe(false);
          read.add(message.text);
          delivered.push(message);
        };

        for (const action of actions) {
          switch (action.kind) {
            case 'send': {
              const sender = parties[action.from];
              if (!sender.canSend) break;
              const text = `${action.from}#${sent++}`;
              inFlight.push({ to: action.from === 'alice' ? 'bob' : 'alice', text, bytes: await sender.encrypt(utf8(text)) });
              break;
            }
            case 'deliver':
              if (inFlight.length > 0) {
                const index = action.pick % inFlight.length;
                if (index > 0) totals.outOfOrder++;
                await deliver(inFlight.splice(index, 1)[0] as InFlight);
              }
              break;
            case 'drop':
              if (inFlight.length > 0) lost.add((inFlight.splice(action.pick % inFlight.length, 1)[0] as InFlight).text);
              break;
            case 'duplicate': {
              const again = delivered[action.pick % Math.max(1, delivered.length)];
              if (again) {
                expect(await parties[again.to].decrypt(again.bytes)).toEqual({ ok: false, reason: DecryptFailure.Duplicate });
                totals.duplicates++;
              }
              break;
            }
            case 'restart':
              parties[action.who] = DoubleRatchet.restore(structuredClone(parties[action.who].snapshot()));
              totals.restarts++;
              break;
          }
        }
        while (inFlight.length > 0) await deliver(inFlight.shift() as InFlight);
        expect(read.size + lost.size).toBe(sent);
        totals.read += read.size;
        totals.lost += lost.size;
      }),
      { seed: SEED, numRuns: 100 },
    );
    // The schedules really exercised what the property claims (not a run of empty conversations).
    expect(totals.read).toBeGreaterThan(500);
    for (const count of [totals.lost, totals.outOfOrder, totals.duplicates, totals.restarts]) {
      expect(count).toBeGreaterThan(20);
    }
  });
});

describe('[RATCHET-3] tampering', () => {
  it('any flipped bit in header or ciphertext is refused and leaves the session unchanged', async () => {
    const { alice, bob } = await ratchetPair();
    // An established session in both directions, so both chains and a ratchet step exist.
    for (const [from, to] of [[alice, bob], [bob, alice], [alice, bob]] as const) {
      const result = await to.decrypt(await from.encrypt(utf8('setup')));
      expect(result.ok).toBe(true);
    }
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.string({ maxLength: 40 }), async (bitChoice, text) => {
        const message = await alice.encrypt(utf8(text));
        const bit = bitChoice % (message.length * 8);
        const tampered = message.slice();
        tampered[bit >> 3] = (tampered[bit >> 3] as number) ^ (1 << (bit & 7));
        const before = bob.skippedKeyCount;
        expect((await bob.decrypt(tampered)).ok).toBe(false);
        expect(bob.skippedKeyCount).toBe(before);
        const genuine = await bob.decrypt(message);
        expect(genuine.ok && fromUtf8(genuine.plaintext)).toBe(text);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});
