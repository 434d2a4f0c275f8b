#!/usr/bin/env node
// bench/logout: remote log out latency under load. While the 1:1 ring of bench/ring runs at --rate
// (half of its sustainable rate by default), a primary links a companion through the SDK and then
// removes it (SPEC REVOKE-1), --count times; each sample is the time from the RemoveDevice frame
// leaving the primary's socket to the close event of the companion's socket. The target (the
// issue's, not asserted here): p99 under 100 ms on one node, under 250 ms across nodes.
//
//   npm run bench:logout -- [--count 50] [--rate 1500, or 150 on PostgreSQL] [--n 200] [--duration 45] [--nodes 1|3]
//                           [--database sqlite|postgres]
// --nodes 3 starts three servers on one PostgreSQL (DATABASE_URL, postgres://postgres@127.0.0.1:5432/test
// by default, a fresh schema) and NATS (NATS_URL, nats://127.0.0.1:4222 by default, a subject of
// its own), all with the first one's public origin; the ring runs on node 1; there is a primary on
// each node, and removal i uses primary i mod 3 with its companion on the next node, so that every
// removal crosses nodes. The servers run under `taskset -c --server-cpu`, this generator (the ring
// and the SDK clients) under `taskset -c --gen-cpu`. The removals are spread over the ring's
// --duration s window (one every 0.9 * duration / count s, or back to back when they take longer)
// and stop at --count or when the window ends, whichever is first.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeMachine, percentile } from '../machine.mjs';
import { pin } from '../ring/processes.mjs';
import { runRate } from '../ring/run-rate.mjs';
import { startNodes } from './nodes.mjs';
import { measureRemovals, timedPrimary } from './removals.mjs';

const { values: a } = parseArgs({
  options: {
    count: { type: 'string', default: '50' },
    rate: { type: 'string' },
    n: { type: 'string', default: '200' },
    duration: { type: 'string', default: '45' },
    warmup: { type: 'string', default: '2' },
    'body-bytes': { type: 'string', default: '1024' },
    nodes: { type: 'string', default: '1' },
    database: { type: 'string', default: 'sqlite' },
    'server-cpu': { type: 'string', default: '0' },
    'gen-cpu': { type: 'string', default: '1' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (a.help) {
  console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').filter((line) => line.startsWith('//')).join('\n'));
  process.exit(0);
}

function whole(name, min, max) {
  const value = Number(a[name]);
  if (!Number.isInteger(value) || value < min || value > max) {
    console.error(`--${name} must be a whole number from ${min} to ${max}`);
    process.exit(2);
  }
  return value;
}

const count = whole('count', 1, 100_000);
const nodeCount = whole('nodes', 1, 8);
// Half the ring's sustainable rate measured on the development machines (docs/performance.md):
// about 3,000/s on one node on SQLite, about 400/s on PostgreSQL.
const onPostgres = nodeCount > 1 || a.database === 'postgres';
const rate = a.rate === undefined ? (onPostgres ? 150 : 1500) : whole('rate', 0, 100_000);
const n = whole('n', 2, 100_000);
const duration = whole('duration', 1, 3600);
const warmup = whole('warmup', 0, 60);
const bodyBytes = whole('body-bytes', 24, 64 * 1024);
if (a.database !== 'sqlite' && a.database !== 'postgres') {
  console.error('--database must be sqlite or postgres');
  process.exit(2);
}
if (nodeCount > 1 && a.database !== 'sqlite') console.error('(--nodes > 1 always uses PostgreSQL: --database is ignored)');

const f = (ms) => (Math.round(ms * 10) / 10).toFixed(1);

pin(process.pid, a['gen-cpu']);
console.error(`bench/logout on ${describeMachine()}; servers on CPU ${a['server-cpu']}, generator on CPU ${a['gen-cpu']}`);
const cluster = await startNodes({ nodes: nodeCount, n, database: a.database, serverCpu: a['server-cpu'] });
// However this run ends, its servers (children under taskset, not killed with it) and schema go too.
const unhandled = [];
process.on('unhandledRejection', (error) => unhandled.push(error instanceof Error ? error.stack : String(error)));
process.once('SIGINT', () => void cluster.stop().finally(() => process.exit(130)));
try {
  const primaries = [];
  for (const [i, node] of cluster.nodes.entries()) primaries.push(await timedPrimary(node, `logout${i + 1}`));
  const pairs = primaries.map((primary, i) => {
    const companionNode = cluster.nodes[(i + 1) % cluster.nodes.length];
    return { primary, companionNode, label: `${primary.node.name} -> ${companionNode.name}` };
  });
  console.error(`${cluster.label}: ring of ${n} at ${rate}/s for up to ${duration} s; ${count} removals (${pairs.map((pair) => pair.label).join(', ')})`);

  // The ring, open loop, and the removals inside its window (after its warm-up).
  let ringDone = false;
  // --rate 0: no load, the removals alone (within the same window).
  const ring = rate > 0 ? runRate(cluster.system, rate, { n, warmup, duration, drain: 5, bodyBytes }).finally(() => (ringDone = true)) : Promise.resolve(null);
  const windowEndsAt = Date.now() + (warmup + duration) * 1000;
  await new Promise((resolve) => setTimeout(resolve, warmup * 1000));
  const startedAt = Date.now();
  const removals = await measureRemovals({
    pairs,
    count,
    until: () => ringDone || Date.now() >= windowEndsAt,
    spacingMs: (0.9 * duration * 1000) / count,
    onSample: (i, label, ms) => {
      if ((i + 1) % 10 === 0) console.error(`  removal ${i + 1} (${label}): ${f(ms)} ms`);
    },
  });
  const removalSeconds = (Date.now() - startedAt) / 1000;
  const ringResult = await ring;
  for (const primary of primaries) await primary.client.close();

  const ms = removals.samples.map((sample) => sample.ms);
  const stats = (values) =>
    values.length === 0
      ? 'no samples'
      : `p50 ${f(percentile(values, 50))} p95 ${f(percentile(values, 95))} p99 ${f(percentile(values, 99))} max ${f(Math.max(...values))} ms`;
  const result = {
    system: cluster.label,
    nodes: nodeCount,
    removals: ms.length,
    asked: count,
    failures: removals.failures.length,
    p50_ms: ms.length ? Number(f(percentile(ms, 50))) : null,
    p95_ms: ms.length ? Number(f(percentile(ms, 95))) : null,
    p99_ms: ms.length ? Number(f(percentile(ms, 99))) : null,
    max_ms: ms.length ? Number(f(Math.max(...ms))) : null,
    from_call_p99_ms: removals.fromCall.length ? Number(f(percentile(removals.fromCall, 99))) : null,
    removal_seconds: Math.round(removalSeconds),
    ring: ringResult,
  };
  console.log(JSON.stringify(result));
  console.error(`\nremote log out, RemoveDevice sent -> companion socket closed (${ms.length} of ${count}, in ${result.removal_seconds} s):`);
  console.error(`  ${stats(ms)}`);
  if (pairs.length > 1) {
    for (const { label } of pairs) console.error(`  ${label}: ${stats(removals.samples.filter((sample) => sample.label === label).map((sample) => sample.ms))}`);
  }
  console.error(`  from the removeDevice() call (which first fetches and signs the list): ${stats(removals.fromCall)}`);
  for (const failure of removals.failures) console.error(`  failed: ${failure}`);
  for (const stack of unhandled) console.error(`  unhandled rejection: ${stack}`);
  if (ms.length < count) console.error(`  only ${ms.length} of ${count} done while the ring ran: raise --duration`);
  if (ringResult) {
    console.error(
      `ring meanwhile (${ringResult.system}${nodeCount > 1 ? ', all on node1' : ''}): ${ringResult.rate}/s offered, delivered ${ringResult.delivered_per_s}/s, ` +
        `p50 ${ringResult.p50_ms} p99 ${ringResult.p99_ms} max ${ringResult.max_ms} ms, lost ${ringResult.lost}, dup ${ringResult.duplicates}, refused ${ringResult.refused}, ` +
        `server ${ringResult.server_cpu_percent}% CPU${nodeCount > 1 ? ' (node1)' : ''}, generator ${ringResult.gen_cpu_percent}%`,
    );
  }
  if (ringResult && !ringResult.sustainable) {
    console.error(
      `  the ring did not pass bench/ring's test at ${rate}/s here (p99 < 100 ms, nothing lost or refused, generator under 90 %): ` +
        'these removals did not run at half a sustainable rate; try a lower --rate',
    );
  }
  console.error(`machine: ${describeMachine()}`);
} finally {
  await cluster.stop();
}
