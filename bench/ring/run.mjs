#!/usr/bin/env node
// bench/ring: the "1:1 ring" against the real Pairwise server, the workload ../shared/peers runs
// against Prosody and ejabberd, so that the three can be put side by side.
//
// N accounts, each a primary with one device, authenticated as real devices (registered through
// the SDK, then signed in over raw WebSockets so that no ratchet runs in the generator). Client i
// sends account (i+1) mod N one SendMessage with one envelope of --body-bytes opaque bytes for the
// recipient's device. Open loop at an aggregate rate R (message k due at k/R s, from client k mod N),
// --warmup s not counted, --duration s measured, at most --drain s for the rest to arrive. Recipients
// acknowledge what they receive in batches, as the SDK does.
//
// Figures per rate: delivered/s, delivery latency (send written -> push parsed, same process,
// monotonic clock) p50/p95/p99/max, send-to-ack (the server's "accepted") p50/p99, lost, duplicates,
// server RSS peak and CPU % (from /proc), generator CPU % (a run whose generator passes 90 % of its
// core does not count). A sweep stops at the first rate where p99 >= 100 ms or anything is lost; the
// highest passing rate is the sustainable one. The server runs under `taskset -c --server-cpu`, this
// generator under `taskset -c --gen-cpu`. The same sweep runs against a bare `ws` relay (no storage,
// no authentication, no protobuf) under the same pinning, as the floor, and the ratio is printed.
//
//   npm run bench:ring -- [--n 200] [--rates "250 500 1000 ..."] [--duration 15] [--systems pairwise,bare]
//                         [--database postgres [--postgres-cpu 1]] [--profile DIR]
// --database postgres uses DATABASE_URL (postgres://postgres@127.0.0.1:5432/test by default) in a
// fresh schema; --postgres-cpu pins the local PostgreSQL's processes to that CPU for the run (and
// gives them their CPUs back after), so that the database does not share the server's core, as it
// would not on a machine of its own; --profile DIR writes the server's CPU profile (node --cpu-prof) there.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket, { WebSocketServer } from 'ws';
import { describeMachine } from '../machine.mjs';
import { startPairwise } from './pairwise-system.mjs';
import { pin, pinPostgres, startChild } from './processes.mjs';
import { HEADER_BYTES, runRate } from './run-rate.mjs';

const SCRIPT = fileURLToPath(import.meta.url);

const { values: a } = parseArgs({
  options: {
    n: { type: 'string', default: '200' },
    rates: { type: 'string', default: '250 500 1000 1500 2000 3000 4000 5000 7500 10000 12500 15000 20000' },
    duration: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '2' },
    drain: { type: 'string', default: '5' },
    'body-bytes': { type: 'string', default: '1024' },
    systems: { type: 'string', default: 'pairwise,bare' },
    database: { type: 'string', default: 'sqlite' },
    'server-cpu': { type: 'string', default: '0' },
    'gen-cpu': { type: 'string', default: '1' },
    profile: { type: 'string' },
    'postgres-cpu': { type: 'string' },
    'serve-bare-relay': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (a.help) {
  console.log(readFileSync(SCRIPT, 'utf8').split('\n').filter((line) => line.startsWith('//')).join('\n'));
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// The bare relay (a child process of this script): a frame is [target u32][payload]; it is sent on
// to the target's socket with the sender's index in its place, and the sender gets a 1-byte ack.

function serveBareRelay() {
  const sockets = new Map();
  const relay = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 1024 * 1024 });
  const ack = Buffer.from([0]);
  relay.on('connection', (socket, request) => {
    const id = Number(new URL(request.url, 'http://relay').searchParams.get('id'));
    sockets.set(id, socket);
    socket.on('message', (data, isBinary) => {
      if (!isBinary || !Buffer.isBuffer(data) || data.length < 4) return;
      const target = sockets.get(data.readUInt32BE(0));
      data.writeUInt32BE(id, 0);
      target?.send(data);
      socket.send(ack);
    });
  });
  relay.on('listening', () => console.log(JSON.stringify({ port: relay.address().port })));
  process.once('SIGTERM', () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------

const n = whole('n', 2, 100_000);
const duration = whole('duration', 1, 600);
const warmup = whole('warmup', 0, 60);
const drain = whole('drain', 1, 60);
const bodyBytes = whole('body-bytes', HEADER_BYTES, 64 * 1024);
const rates = a.rates.split(/[\s,]+/).filter(Boolean).map(Number);
const systems = a.systems.split(',').map((s) => s.trim());

function whole(name, min, max) {
  const value = Number(a[name]);
  if (!Number.isInteger(value) || value < min || value > max) {
    console.error(`--${name} must be a whole number from ${min} to ${max}`);
    process.exit(2);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// The two systems behind one interface: connect N clients; send(i, payload) from client i to its
// neighbour; onDeliver(payload) for what arrives; each send resolves when the server accepted it.

/** The bare relay as a system; the Pairwise server is startPairwise (pairwise-system.mjs), the rate runRate (run-rate.mjs). */
async function startBare() {
  const relay = await startChild('taskset', ['-c', a['server-cpu'], process.execPath, SCRIPT, '--serve-bare-relay'], process.env, /"port":(\d+)/, 'the bare relay');
  const port = Number(relay.match[1]);
  let onDeliver = () => {};
  const sockets = await Promise.all(
    Array.from({ length: n }, (_, id) => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/?id=${id}`, { maxPayload: 1024 * 1024 });
      socket.acks = [];
      socket.on('message', (data) => {
        if (data.length === 1) socket.acks.shift()?.(null);
        else onDeliver(data.subarray(4));
      });
      return new Promise((resolve, reject) => {
        socket.once('open', () => resolve(socket));
        socket.once('error', reject);
      });
    }),
  );
  return {
    name: 'bare ws relay',
    pid: relay.child.pid,
    listen(handler) {
      onDeliver = handler;
    },
    send(index, payload) {
      const frame = Buffer.alloc(4 + payload.length);
      frame.writeUInt32BE((index + 1) % n, 0);
      Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).copy(frame, 4);
      const socket = sockets[index];
      socket.send(frame);
      return new Promise((resolve) => socket.acks.push(resolve));
    },
    async stop() {
      for (const socket of sockets) socket.terminate();
      await relay.stop();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// One rate: open loop, then the figures.

async function sweep(system) {
  let best = null;
  for (const rate of rates) {
    const result = await runRate(system, rate, { n, warmup, duration, drain, bodyBytes });
    console.log(JSON.stringify(result));
    console.error(
      `  ${system.name} ${rate}/s: delivered ${result.delivered_per_s}/s, p50 ${result.p50_ms} p95 ${result.p95_ms} p99 ${result.p99_ms} max ${result.max_ms} ms, ` +
        `ack p50 ${result.ack_p50_ms} p99 ${result.ack_p99_ms} ms, lost ${result.lost}, dup ${result.duplicates}, refused ${result.refused}, ` +
        `server ${result.server_cpu_percent}% CPU ${result.server_rss_peak_mib} MiB, generator ${result.gen_cpu_percent}%${result.sustainable ? '' : '  <- not sustainable'}`,
    );
    if (!result.sustainable) break;
    best = result;
  }
  return best;
}

async function main() {
  pin(process.pid, a['gen-cpu']);
  const postgresCpu = a['postgres-cpu'] !== undefined && a.database === 'postgres' ? a['postgres-cpu'] : null;
  const database = postgresCpu === null ? '' : `, PostgreSQL on CPU ${postgresCpu}`;
  console.error(`bench/ring on ${describeMachine()}; server on CPU ${a['server-cpu']}, generator on CPU ${a['gen-cpu']}${database}; N=${n}, ${bodyBytes} B, ${duration} s per rate`);
  const unpin = postgresCpu === null ? () => {} : pinPostgres(postgresCpu);
  process.once('SIGINT', () => {
    unpin();
    process.exit(130);
  });
  const best = {};
  try {
    for (const name of systems) {
      const system = name === 'bare' ? await startBare() : await startPairwise({ n, database: a.database, profile: a.profile, serverCpu: a['server-cpu'] });
      try {
        best[system.name] = await sweep(system);
      } finally {
        await system.stop();
      }
    }
  } finally {
    unpin();
  }
  console.error('\nsustainable rate (p99 < 100 ms, nothing lost):');
  for (const [name, result] of Object.entries(best)) {
    console.error(`  ${name}: ${result ? `${result.rate}/s (p99 ${result.p99_ms} ms, server ${result.server_cpu_percent}% CPU)` : `below the first rate (${rates[0]}/s)`}`);
  }
  const pairwiseName = Object.keys(best).find((name) => name.startsWith('Pairwise'));
  const floor = best['bare ws relay'];
  if (pairwiseName && floor && best[pairwiseName]) {
    console.error(`  ratio ${pairwiseName} / bare ws relay: ${(best[pairwiseName].rate / floor.rate).toFixed(3)}`);
  }
  console.error(`  machine: ${describeMachine()}`);
}

if (a['serve-bare-relay']) serveBareRelay();
else await main();
