// The servers of bench/logout: one node with the ring on it (bench/ring's startPairwise), or
// several nodes on one PostgreSQL and one NATS, each under `taskset -c serverCpu`, all with the
// public origin of the first (device signatures and link codes are bound to it, SPEC BUS-4).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPairwise } from '../ring/pairwise-system.mjs';
import { freePort, startChild } from '../ring/processes.mjs';
import { freshSchema } from '../fresh-schema.mjs';

const SERVER_MAIN = join(dirname(fileURLToPath(import.meta.url)), '../../packages/server/dist/main.js');
const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

/**
 * Starts `nodes` servers and the ring's `n` clients on the first. Returns { system (the ring's,
 * for runRate), nodes: [{ name, url, origin, pid }], label, stop() }.
 */
export async function startNodes({ nodes, n, database, serverCpu }) {
  // The ring's accounts, the primaries and a margin, all from 127.0.0.1 within the hour.
  const limits = { REGISTRATIONS_PER_HOUR_PER_ADDRESS: String(n + 100) };
  if (nodes === 1) {
    const system = await startPairwise({ n, database, serverCpu, env: limits });
    return {
      system,
      nodes: [{ name: 'node1', url: system.url, origin: system.origin, pid: system.pid }],
      label: system.name,
      stop: () => system.stop(),
    };
  }
  const schema = await freshSchema('logout');
  const natsUrl = process.env.NATS_URL ?? DEFAULT_NATS_URL;
  // Its own subject: other installations (other benches, the Bus tests) may share the broker (SPEC BUS-2).
  const shared = { ...limits, DATABASE_URL: schema.url, NATS_URL: natsUrl, NATS_SUBJECT: `bench.logout.${randomBytes(4).toString('hex')}` };
  const started = [];
  const extra = [];
  let system = null;
  try {
    // The first node through bench/ring, so that the ring is the same as bench:ring's. Its
    // database is PostgreSQL through the environment (DATABASE_URL overrides the SQLite default).
    system = await startPairwise({ n, database: 'sqlite', serverCpu, env: { ...shared, NODE_NAME: 'node1' } });
    started.push({ name: 'node1', url: system.url, origin: system.origin, pid: system.pid });
    for (let i = 2; i <= nodes; i++) {
      const port = await freePort();
      const dataDir = mkdtempSync(join(tmpdir(), 'pairwise-logout-'));
      const env = {
        PATH: process.env.PATH ?? '',
        HOST: '127.0.0.1',
        PORT: String(port),
        PUBLIC_ORIGIN: system.origin,
        DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
        NODE_NAME: `node${i}`,
        ...shared,
      };
      const child = await startChild('taskset', ['-c', serverCpu, process.execPath, SERVER_MAIN], env, /Pairwise is serving/, `node ${i}`);
      extra.push({ child, dataDir });
      started.push({ name: `node${i}`, url: `ws://127.0.0.1:${port}/ws`, origin: system.origin, pid: child.child.pid });
    }
    const label = `Pairwise, ${nodes} nodes (PostgreSQL, NATS ${natsUrl})`;
    return {
      // Named for what it is: startPairwise names it after the `database` it was given.
      system: { ...system, name: label },
      nodes: started,
      label,
      async stop() {
        for (const { child, dataDir } of extra) {
          await child.stop();
          rmSync(dataDir, { recursive: true, force: true });
        }
        await system.stop();
        await schema.drop();
      },
    };
  } catch (error) {
    for (const { child, dataDir } of extra) {
      await child.stop().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    }
    await system?.stop().catch(() => {});
    await schema.drop().catch(() => {});
    throw error;
  }
}
