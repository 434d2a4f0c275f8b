// Integration: three server nodes on one PostgreSQL and one NATS broker, the devices of two
// accounts spread over them (SPEC BUS-1, BUS-3, BUS-4). The broker is a private nats-server, so
// that a test can restart it; the database a fresh schema, dropped at the end.
import { randomBytes } from 'node:crypto';
import type { PairwiseClient } from '@pairwise/client/pairwise-client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSubject, hasNatsServerBinary, startPrivateNats, type PrivateNats } from '../../server/src/test-support/nats.js';
import { removeDataDir, startServerProcess, type ServerProcess } from './server-process.js';
import { createPrimary, eventually, linkCompanion } from './test-clients.js';

const databaseUrl = process.env.DATABASE_URL?.trim() || null;
const natsServer = await hasNatsServerBinary();

if (databaseUrl === null || !natsServer) {
  const missing = databaseUrl === null ? 'DATABASE_URL' : 'nats-server on the PATH';
  if (process.env.CI === 'true') {
    describe('several nodes', () => {
      it('runs under CI', () => {
        throw new Error(`${missing} is required under CI=true: the multi-node tests must run there`);
      });
    });
  } else {
    console.warn(`multi-node.test.ts: no ${missing}, so the multi-node tests are SKIPPED`);
    describe.skip(`several nodes: needs ${missing}`, () => {
      it('runs three nodes', () => {});
    });
  }
} else {
  describeNodes(databaseUrl);
}

/** Every text `client` receives from `sender`, in order (not its own account's, synced from its other devices). */
function inbox(client: PairwiseClient, sender: string): string[] {
  const texts: string[] = [];
  client.on('message', (message) => {
    if (message.senderAccountId === sender) texts.push(message.text);
  });
  return texts;
}

function counts(texts: readonly string[]): Map<string, number> {
  const result = new Map<string, number>();
  for (const text of texts) result.set(text, (result.get(text) ?? 0) + 1);
  return result;
}

function describeNodes(url: string): void {
  describe('[BUS-1] [BUS-3] [BUS-4] three nodes on one PostgreSQL and NATS', () => {
    const schema = `nodes_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Pool({ connectionString: url, max: 1 });
    let broker: PrivateNats;
    let nodes: ServerProcess[] = [];
    const clients: PairwiseClient[] = [];
    let alicePhone: PairwiseClient;
    let aliceLaptop: PairwiseClient;
    let bobPhone: PairwiseClient;
    let bobLaptop: PairwiseClient;

    const node = (index: number): ServerProcess => {
      const found = nodes[index];
      if (found === undefined) throw new Error(`no node ${index}`);
      return found;
    };

    beforeAll(async () => {
      await admin.query(`create schema ${schema}`);
      broker = await startPrivateNats();
      const env = {
        DATABASE_URL: `${url}${url.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}`,
        NATS_URL: broker.url,
        NATS_SUBJECT: freshSubject(),
        // One installation behind one proxy: every node has the origin users reach (device
        // signatures bind it).
        PUBLIC_ORIGIN: 'https://chat.pairwise.test',
      };
      // One after the other: the first creates the schema, the others find it.
      for (let i = 0; i < 3; i++) nodes.push(await startServerProcess({ env }));
      // Alice's phone on node 0 links her laptop on node 2; Bob's phone on node 1 links his on 0:
      // each approval crosses nodes.
      alicePhone = await createPrimary(node(0), 'alice_nodes');
      bobPhone = await createPrimary(node(1), 'bob_nodes');
      aliceLaptop = await linkCompanion(node(2), alicePhone, { deviceName: 'Alice laptop' });
      bobLaptop = await linkCompanion(node(0), bobPhone, { deviceName: 'Bob laptop' });
      clients.push(alicePhone, bobPhone, aliceLaptop, bobLaptop);
    }, 90_000);

    afterAll(async () => {
      for (const client of clients) await client.close().catch(() => {});
      for (const server of nodes) {
        await server.stop();
        removeDataDir(server);
      }
      nodes = [];
      await broker.kill();
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    }, 60_000);

    it('links a companion whose phone is on another node, and every device gets every message exactly once', async () => {
      const bobPhoneTexts = inbox(bobPhone, 'alice_nodes');
      const bobLaptopTexts = inbox(bobLaptop, 'alice_nodes');
      const alicePhoneTexts = inbox(alicePhone, 'bob_nodes');
      const aliceLaptopTexts = inbox(aliceLaptop, 'bob_nodes');
      const fromAlice = Array.from({ length: 30 }, (_, i) => `alice to bob ${i}`);
      const fromBob = Array.from({ length: 30 }, (_, i) => `bob to alice ${i}`);
      await Promise.all([...fromAlice.map((text) => alicePhone.sendText('bob_nodes', text)), ...fromBob.map((text) => bobLaptop.sendText('alice_nodes', text))]);
      await eventually(
        () => bobPhoneTexts.length >= 30 && bobLaptopTexts.length >= 30 && alicePhoneTexts.length >= 30 && aliceLaptopTexts.length >= 30,
        15_000,
        'every message on every device',
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      for (const texts of [bobPhoneTexts, bobLaptopTexts]) expect(counts(texts)).toEqual(new Map(fromAlice.map((text) => [text, 1])));
      for (const texts of [alicePhoneTexts, aliceLaptopTexts]) expect(counts(texts)).toEqual(new Map(fromBob.map((text) => [text, 1])));
    }, 60_000);

    it('SIGKILL of a node mid-stream loses no acknowledged message and duplicates none', async () => {
      const received = inbox(bobPhone, 'alice_nodes');
      const acknowledged = new Set<string>();
      const total = 120;
      const sends = Array.from({ length: total }, (_, i) => {
        const text = `through a crash ${i}`;
        return alicePhone.sendText('bob_nodes', text).then(() => acknowledged.add(text));
      });
      await eventually(() => acknowledged.size >= 20, 20_000, 'some acknowledged sends');
      // Alice's node dies; Bob's node goes on serving him.
      await node(0).kill();
      const acknowledgedBeforeCrash = [...acknowledged];
      expect(acknowledgedBeforeCrash.length).toBeLessThan(total);
      nodes[0] = await node(0).restart();
      await Promise.all(sends);
      await eventually(() => new Set(received).size === total, 30_000, 'every message after the restart');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(received.length).toBe(total);
      for (const text of acknowledgedBeforeCrash) expect(received).toContain(text);
    }, 90_000);

    it('a broker restart mid-stream: delivery resumes, each message once', async () => {
      const received = inbox(bobPhone, 'alice_nodes');
      const total = 80;
      let sent = 0;
      const sends: Promise<unknown>[] = [];
      const stream = setInterval(() => {
        if (sent >= total) return;
        sends.push(alicePhone.sendText('bob_nodes', `through a broker restart ${sent++}`));
      }, 20);
      try {
        await eventually(() => received.length >= 10, 15_000, 'the stream to start');
        await broker.kill();
        await new Promise((resolve) => setTimeout(resolve, 500));
        await broker.start();
        await eventually(() => sent >= total, 30_000, 'every send');
      } finally {
        clearInterval(stream);
      }
      await Promise.all(sends);
      // Without the gap's catch-up, what was sent while the broker was away would wait for
      // Bob's next connect.
      await eventually(() => new Set(received).size === total, 20_000, 'every message after the broker restart');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(received.length).toBe(total);
    }, 90_000);

    it('removing a companion on one node closes its socket on another at once', async () => {
      const loggedOut = aliceLaptop.once('logged-out');
      const started = performance.now();
      await alicePhone.removeDevice(aliceLaptop.deviceId);
      const { reason } = await loggedOut;
      const elapsed = performance.now() - started;
      console.info(`multi-node: remote log out across nodes took ${elapsed.toFixed(1)} ms`);
      expect(reason).toBe('removed');
      // Pushed through the Bus, not found at the laptop's next connect (which would be never:
      // it stays connected). The aim is 250 ms; a loaded CI machine gets some slack.
      expect(elapsed).toBeLessThan(2_000);
    }, 30_000);
  });
}
