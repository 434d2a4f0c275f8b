/**
 * What every Bus must do, run against each one (SPEC BUS-1): the in-process Bus as one node, the
 * NATS Bus as several nodes on one broker.
 * @module
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Bus, BusEvent, BusGap } from './bus.js';

/** The nodes of one installation, each with its own Bus. */
export interface BusNodes {
  readonly nodes: readonly Bus[];
  close(): Promise<void>;
}

const DEVICE_A = 'a'.repeat(32);
const DEVICE_B = '0123456789abcdef0123456789abcdef';

/** One event of every kind. */
export const EVERY_EVENT: readonly BusEvent[] = [
  { type: 'inbox', deviceIds: [DEVICE_A, DEVICE_B] },
  { type: 'inbox', deviceIds: [DEVICE_A, DEVICE_B], seqs: [7, 9_007_199_254_740_991] },
  { type: 'revoke', deviceId: DEVICE_A, reason: 'removed' },
  { type: 'device-list', accountId: 'alice' },
  { type: 'link-approved', tokenHash: 'f'.repeat(64), accountId: 'alice', sealedBundle: new Uint8Array([0, 1, 2, 250, 255]) },
  { type: 'device-removed', accountId: 'alice', deviceId: DEVICE_B, reason: 'inactive' },
  { type: 'prekeys-low', deviceId: DEVICE_A, remaining: 3, pqRemaining: 0 },
  { type: 'security', accountId: 'bob_2', alert: 'pin-locked' },
];

/** Everything a bus's subscribers hear, in order. */
export function heard(bus: Bus): (BusEvent | BusGap)[] {
  const events: (BusEvent | BusGap)[] = [];
  bus.subscribe((event) => events.push(event));
  return events;
}

/** Waits until `condition` holds, polling; fails naming `what` after `timeoutMs`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Waits a little for events that must not come. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 150));
}

export function describeBusContract(name: string, open: () => Promise<BusNodes>): void {
  describe(`[BUS-1] Bus contract (${name})`, () => {
    let installation: BusNodes | null = null;
    const start = async (): Promise<readonly Bus[]> => {
      installation = await open();
      return installation.nodes;
    };
    afterEach(async () => {
      await installation?.close();
      installation = null;
    });

    it('every event, of every kind, reaches every node once, as it was published', async () => {
      const nodes = await start();
      const logs = nodes.map(heard);
      const publisher = nodes[nodes.length - 1];
      if (publisher === undefined) throw new Error('no nodes');
      for (const event of EVERY_EVENT) await publisher.publish(event);
      for (const log of logs) await until(() => log.length >= EVERY_EVENT.length, 'every event on every node');
      await settle();
      for (const log of logs) expect(log).toEqual(EVERY_EVENT);
      const approved = logs[0]?.find((event) => event.type === 'link-approved');
      expect(approved?.type === 'link-approved' && approved.sealedBundle).toBeInstanceOf(Uint8Array);
    });

    it("hands the publisher's own subscribers the event on a later tick, never inside publish", async () => {
      const [node] = await start();
      if (node === undefined) throw new Error('no nodes');
      let insidePublish = false;
      let calledInside = false;
      let calls = 0;
      node.subscribe(() => {
        calls++;
        if (insidePublish) calledInside = true;
      });
      insidePublish = true;
      const published = node.publish({ type: 'device-list', accountId: 'alice' });
      insidePublish = false;
      await published;
      await until(() => calls === 1, 'the event');
      expect(calledInside).toBe(false);
    });

    it("keeps one publisher's order on every node", async () => {
      const nodes = await start();
      const logs = nodes.map(heard);
      const publisher = nodes[0];
      if (publisher === undefined) throw new Error('no nodes');
      const ids = Array.from({ length: 200 }, (_, i) => i.toString(16).padStart(32, '0'));
      for (const id of ids) await publisher.publish({ type: 'inbox', deviceIds: [id] });
      for (const log of logs) {
        await until(() => log.length === ids.length, 'every event');
        expect(log.map((event) => (event.type === 'inbox' ? event.deviceIds[0] : null))).toEqual(ids);
      }
    });

    it('stops handing events to a handler once it unsubscribes', async () => {
      const nodes = await start();
      const [first] = nodes;
      if (first === undefined) throw new Error('no nodes');
      const kept = heard(first);
      const dropped: BusEvent[] = [];
      const unsubscribe = first.subscribe((event) => {
        if (event.type !== 'gap') dropped.push(event);
      });
      unsubscribe();
      await first.publish({ type: 'device-list', accountId: 'alice' });
      await until(() => kept.length === 1, 'the kept handler');
      await settle();
      expect(dropped).toEqual([]);
    });

    it('says it is connected while it can reach the other nodes', async () => {
      const nodes = await start();
      for (const node of nodes) expect(node.isConnected()).toBe(true);
    });
  });
}
