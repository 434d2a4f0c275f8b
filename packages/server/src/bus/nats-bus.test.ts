import { connect } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { freshSubject, hasNatsServerBinary, sharedNatsUrl, startPrivateNats, type PrivateNats } from '../test-support/nats.js';
import { describeBusContract, heard, until } from './bus.contract.js';
import { encodeBusEvent } from './bus-codec.js';
import { NatsBus } from './nats-bus.js';
import { openBus } from './open-bus.js';
import { parseConfig } from '../config.js';

const silent = { warn: () => {}, info: () => {} };
const sharedUrl = sharedNatsUrl();
const canRestart = await hasNatsServerBinary();

async function nodesOn(url: string, count: number, subject = freshSubject()): Promise<NatsBus[]> {
  return await Promise.all(Array.from({ length: count }, (_, i) => NatsBus.connect({ url, subject, name: `test node ${i}`, log: silent })));
}

if (sharedUrl === null) {
  if (process.env.CI === 'true') {
    describe('NATS Bus', () => {
      it('runs under CI', () => {
        throw new Error('NATS_URL is required under CI=true: the NATS Bus contract must run there');
      });
    });
  } else {
    console.warn('nats-bus.test.ts: NATS_URL is not set, so the NATS Bus contract is SKIPPED');
    describe.skip('NATS Bus: needs NATS_URL', () => {
      it('runs against NATS', () => {});
    });
  }
} else {
  const url = sharedUrl;
  describeBusContract('NATS, three nodes', async () => {
    const nodes = await nodesOn(url, 3);
    return { nodes, close: async () => void (await Promise.all(nodes.map((node) => node.close()))) };
  });

  describe('[BUS-2] NATS Bus: messages from the broker are input', () => {
    const opened: NatsBus[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((node) => node.close()));
    });

    it('drops what is not an event, and goes on with what follows', async () => {
      const subject = freshSubject();
      const [node] = await nodesOn(url, 1, subject);
      if (node === undefined) throw new Error('no node');
      opened.push(node);
      const log = heard(node);
      const stranger = await connect({ servers: url });
      const garbage = ['not json', '{"type":"revoke","deviceId":"../../etc","reason":"removed"}', '{"type":"inbox","deviceIds":[]}', '{"type":"shutdown"}', 'null'];
      // seqs side by side with deviceIds, positive integers.
      const device = 'a'.repeat(32);
      garbage.push(`{"type":"inbox","deviceIds":["${device}"],"seqs":[1,2]}`, `{"type":"inbox","deviceIds":["${device}"],"seqs":[0]}`, `{"type":"inbox","deviceIds":["${device}"],"seqs":"7"}`);
      for (const text of garbage) stranger.publish(subject, new TextEncoder().encode(text));
      stranger.publish(subject, encodeBusEvent({ type: 'device-list', accountId: 'alice' }));
      await stranger.flush();
      await until(() => log.length === 1, 'the valid event');
      expect(log).toEqual([{ type: 'device-list', accountId: 'alice' }]);
      await stranger.close();
    });

    it('keeps installations on one broker apart by subject', async () => {
      const [ours] = await nodesOn(url, 1);
      const [theirs] = await nodesOn(url, 1);
      if (ours === undefined || theirs === undefined) throw new Error('no node');
      opened.push(ours, theirs);
      const theirLog = heard(theirs);
      await ours.publish({ type: 'device-list', accountId: 'alice' });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(theirLog).toEqual([]);
    });
  });

  describe('NATS Bus at start', () => {
    it('fails to open with a message that names the broker without its credentials', async () => {
      const config = parseConfig({ NATS_URL: 'nats://user:secret@127.0.0.1:1', DATABASE_URL: 'postgres://db/p' });
      const failure = await openBus({ ...config }, silent).then(
        () => null,
        (error: unknown) => String(error),
      );
      expect(failure).toMatch(/could not reach NATS at nats:\/\/127\.0\.0\.1:1/);
      expect(failure).not.toContain('secret');
    });
  });
}

if (!canRestart && process.env.CI === 'true') {
  describe('[BUS-3] NATS Bus across a broker restart', () => {
    it('runs under CI', () => {
      throw new Error('nats-server is required on the PATH under CI=true for the broker restart tests');
    });
  });
} else if (!canRestart) {
  console.warn('nats-bus.test.ts: no nats-server on the PATH, so the broker restart tests are SKIPPED');
} else {
  describe('[BUS-3] NATS Bus across a broker restart', () => {
    let broker: PrivateNats | null = null;
    const opened: NatsBus[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((node) => node.close()));
      await broker?.kill();
      broker = null;
    });

    it('says it is disconnected while the broker is away, tells its subscribers of the gap once back, and carries events again', async () => {
      broker = await startPrivateNats();
      const nodes = await nodesOn(broker.url, 2);
      opened.push(...nodes);
      const [a, b] = nodes;
      if (a === undefined || b === undefined) throw new Error('no nodes');
      const heardByB = heard(b);
      await broker.kill();
      await until(() => !a.isConnected() && !b.isConnected(), 'both nodes to notice');
      // A node without the broker still hears itself: one node keeps working alone.
      const heardByA = heard(a);
      await a.publish({ type: 'device-list', accountId: 'alice' });
      await until(() => heardByA.length === 1, 'its own event');
      await broker.start();
      await until(() => a.isConnected() && b.isConnected(), 'both nodes to reconnect', 10_000);
      await until(() => heardByB.some((event) => event.type === 'gap'), 'the gap on b');
      await a.publish({ type: 'revoke', deviceId: 'a'.repeat(32), reason: 'removed' });
      await until(() => heardByB.some((event) => event.type === 'revoke'), 'an event after the restart');
    }, 30_000);

    it('holds at most 10,000 events for the other nodes while the broker is away, says so once, and holds again after', async () => {
      broker = await startPrivateNats();
      const warnings: string[] = [];
      const node = await NatsBus.connect({ url: broker.url, subject: freshSubject(), name: 'test node', log: { ...silent, warn: (_: object, message: string) => void warnings.push(message) } });
      opened.push(node);
      const heardHere = heard(node);
      await broker.kill();
      await until(() => !node.isConnected(), 'the node to notice');
      for (let i = 0; i < 10_050; i++) await node.publish({ type: 'device-list', accountId: `user${i}` });
      // Its own subscribers hear every one; the other nodes are owed at most 10,000.
      await until(() => heardHere.length === 10_050, 'its own events');
      expect(warnings.filter((message) => message.includes('not kept for the other nodes'))).toHaveLength(1);
      await broker.start();
      await until(() => node.isConnected(), 'the node to reconnect', 10_000);
      await broker.kill();
      await until(() => !node.isConnected(), 'the node to notice again');
      for (let i = 0; i < 10_001; i++) await node.publish({ type: 'device-list', accountId: `again${i}` });
      expect(warnings.filter((message) => message.includes('not kept for the other nodes'))).toHaveLength(2);
    }, 30_000);

    it('[BUS-5] logs in with the user and password of NATS_URL, and is refused without them', async () => {
      broker = await startPrivateNats(['--user', 'pairwise', '--pass', 'p@ss/word']);
      const withLogin = broker.url.replace('nats://', 'nats://pairwise:p@ss/word@');
      const nodes = await nodesOn(withLogin, 2);
      opened.push(...nodes);
      const [a, b] = nodes;
      if (a === undefined || b === undefined) throw new Error('no nodes');
      const heardByB = heard(b);
      await a.publish({ type: 'device-list', accountId: 'alice' });
      await until(() => heardByB.length === 1, 'the event through the broker');
      await expect(nodesOn(broker.url, 1)).rejects.toThrow(/authorization/i);
    }, 30_000);

    it('[BUS-5] demands TLS for tls://: a broker without it is refused, not used in plaintext', async () => {
      broker = await startPrivateNats();
      await expect(nodesOn(broker.url.replace('nats://', 'tls://'), 1)).rejects.toThrow(/tls/i);
    }, 30_000);
  });
}
