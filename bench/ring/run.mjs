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
//                         [--database postgres] [--profile DIR]
// --database postgres uses DATABASE_URL (postgres://postgres@127.0.0.1:5432/test by default) in a
// fresh schema; --profile DIR writes the server's CPU profile (node --cpu-prof) there.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket, { WebSocketServer } from 'ws';
import { describeMachine, percentile } from '../machine.mjs';

const SCRIPT = fileURLToPath(import.meta.url);
const ROOT = join(dirname(SCRIPT), '../..');
const SERVER_MAIN = join(ROOT, 'packages/server/dist/main.js');
const HEADER_BYTES = 24;
const ACK_EVERY_MS = 5;

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

function pin(pid, cpu) {
  execFileSync('taskset', ['-a', '-cp', cpu, String(pid)], { stdio: 'ignore' });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMiB(pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : 0;
}

/** Starts a child and resolves once `ready` matches its output. */
function startChild(command, args, env, ready, what) {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 30 s:\n${output}`)), 30_000);
    void exited.then((code) => reject(new Error(`${what} exited with ${code}:\n${output}`)));
    const onData = (chunk) => {
      output += chunk.toString('utf8');
      const match = ready.exec(output);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        child,
        match,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  });
}

// ---------------------------------------------------------------------------------------------
// The two systems behind one interface: connect N clients; send(i, payload) from client i to its
// neighbour; onDeliver(payload) for what arrives; each send resolves when the server accepted it.

async function startPairwise() {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'pairwise-ring-'));
  const origin = `http://localhost:${port}`;
  const env = {
    PATH: process.env.PATH ?? '',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_ORIGIN: origin,
    DATA_DIR: dataDir,
    // Info, for the "serving" line; nothing is logged per request.
    LOG_LEVEL: 'info',
    // One generator address opens every socket of the ring.
    MAX_PENDING_CONNECTIONS_PER_ADDRESS: String(Math.max(32, n)),
    MAX_PENDING_CONNECTIONS: String(Math.max(2000, n)),
    REGISTRATIONS_PER_HOUR_PER_ADDRESS: String(Math.max(10, n)),
  };
  let schema = null;
  if (a.database === 'postgres') {
    schema = `ring_${randomBytes(4).toString('hex')}`;
    const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    env.DATABASE_URL = `${base}${base.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}`;
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    await client.query(`create schema ${schema}`);
    await client.end();
  }
  const nodeArgs = a.profile ? ['--cpu-prof', '--cpu-prof-dir', a.profile] : [];
  const server = await startChild(
    'taskset',
    ['-c', a['server-cpu'], process.execPath, ...nodeArgs, SERVER_MAIN],
    env,
    /Pairwise is serving/,
    'the Pairwise server',
  );
  // taskset execs node: the child's pid is the server's.
  const pid = server.child.pid;
  const url = `ws://127.0.0.1:${port}/ws`;
  const accounts = await registerAccounts(url, origin);
  const { decodeServerFrame, encodeClientFrame } = await import('@pairwise/protocol/frames');
  const { signDeviceChallenge } = await import('@pairwise/crypto/device-auth');
  const { PROTOCOL_VERSION } = await import('@pairwise/protocol/version');
  const clients = [];
  let onDeliver = () => {};
  for (let from = 0; from < n; from += 50) {
    const batch = accounts.slice(from, from + 50).map(async (account, offset) => {
      const index = from + offset;
      const socket = new WebSocket(url, { maxPayload: 1024 * 1024 });
      const client = { index, socket, account, nextId: 1, waiting: new Map(), pendingAcks: [] };
      const signedIn = new Promise((resolve, reject) => {
        socket.on('message', (data) => {
          const frame = decodeServerFrame(new Uint8Array(data));
          const body = frame.body;
          if (body.case === 'challenge' && client.ready === undefined) {
            client.ready = false;
            const clientTime = Date.now();
            void signDeviceChallenge(account.signingKey, {
              origin,
              nonce: body.value.nonce,
              accountId: account.accountId,
              deviceId: account.deviceId,
              clientTime,
            }).then((signature) =>
              socket.send(
                encodeClientFrame({
                  requestId: client.nextId++,
                  body: { case: 'authenticate', value: { accountId: account.accountId, deviceId: account.deviceId, clientTime, signature, protocolVersion: PROTOCOL_VERSION } },
                }),
              ),
            );
          } else if (body.case === 'response') {
            const waiter = client.waiting.get(body.value.requestId);
            client.waiting.delete(body.value.requestId);
            if (body.value.result.case === 'authenticated') resolve();
            else if (body.value.error && client.ready !== true) reject(new Error(`${account.accountId}: ${body.value.error.code}`));
            waiter?.(body.value.error?.code ?? null);
          } else if (body.case === 'deliver') {
            client.pendingAcks.push(body.value.seq);
            if (body.value.item.case === 'message') onDeliver(body.value.item.value.content);
          }
        });
        socket.once('error', reject);
      });
      await signedIn;
      client.ready = true;
      return client;
    });
    clients.push(...(await Promise.all(batch)));
  }
  // Batched acknowledgements, as the SDK sends them.
  const acker = setInterval(() => {
    for (const client of clients) {
      if (client.pendingAcks.length === 0) continue;
      const seqs = client.pendingAcks.splice(0, 1000);
      client.socket.send(encodeClientFrame({ requestId: 0, body: { case: 'ackInbox', value: { seqs } } }));
    }
  }, ACK_EVERY_MS);
  const idPrefix = randomBytes(8);
  let counter = 0;
  return {
    name: `Pairwise (${a.database === 'postgres' ? 'PostgreSQL' : 'SQLite'})`,
    pid,
    listen(handler) {
      onDeliver = handler;
    },
    send(index, payload) {
      const client = clients[index];
      const recipient = clients[(index + 1) % n].account;
      const requestId = client.nextId++;
      const clientMessageId = Buffer.alloc(16);
      idPrefix.copy(clientMessageId, 0);
      clientMessageId.writeDoubleBE(counter++, 8);
      client.socket.send(
        encodeClientFrame({
          requestId,
          body: {
            case: 'sendMessage',
            value: { clientMessageId, recipientAccountId: recipient.accountId, envelopes: [{ deviceId: recipient.deviceId, content: payload }] },
          },
        }),
      );
      return new Promise((resolve) => client.waiting.set(requestId, resolve));
    },
    async stop() {
      clearInterval(acker);
      for (const client of clients) client.socket.terminate();
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
      if (schema !== null) {
        const pg = (await import('pg')).default;
        const client = new pg.Client({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' });
        await client.connect();
        await client.query(`drop schema ${schema} cascade`);
        await client.end();
      }
    },
  };
}

/** N accounts made by the SDK (keys, prekeys, signed list, attestation); returns what signing in needs. */
async function registerAccounts(url, origin) {
  const { PairwiseClient } = await import('@pairwise/client/pairwise-client');
  const { MemoryStore } = await import('@pairwise/client/memory-store');
  const { nodeSocketFactory } = await import('@pairwise/client/node/ws-socket');
  const { StoreTable } = await import('@pairwise/client/client-store');
  const accounts = [];
  const started = performance.now();
  for (let from = 0; from < n; from += 10) {
    const batch = Array.from({ length: Math.min(10, n - from) }, async (_, offset) => {
      // The memory store keeps the device's CryptoKeys as they are: this process signs with them.
      const store = new MemoryStore();
      const client = await PairwiseClient.createAccount({ origin, url, socketFactory: nodeSocketFactory, store, username: `ring${from + offset}` });
      await client.ready();
      await client.close();
      const identity = await store.get(StoreTable.Identity, 'self');
      return { accountId: identity.accountId, deviceId: identity.deviceId, signingKey: identity.device.signing.privateKey };
    });
    accounts.push(...(await Promise.all(batch)));
  }
  console.error(`bench/ring: ${n} accounts registered in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return accounts;
}

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

async function runRate(system, rate) {
  const nonce = randomBytes(4).readUInt32BE(0);
  const total = Math.round(rate * (warmup + duration));
  const windowStart = Math.round(rate * warmup);
  const sentAt = new Float64Array(total);
  const received = new Uint8Array(total);
  const latencies = [];
  const ackLatencies = [];
  let duplicates = 0;
  let refused = 0;
  let lastDelivery = 0;
  let deliveredInWindow = 0;
  let measuring = false;
  system.listen((content) => {
    const view = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
    if (view.length < HEADER_BYTES || view.readUInt32BE(0) !== nonce) return;
    const k = view.readUInt32BE(4);
    if (k >= total) return;
    if (received[k]) {
      duplicates++;
      return;
    }
    received[k] = 1;
    if (k >= windowStart) {
      const now = performance.now();
      latencies.push(now - sentAt[k]);
      lastDelivery = now;
      deliveredInWindow++;
    }
  });
  const payloadFor = (k) => {
    const payload = Buffer.alloc(bodyBytes, 0x61);
    payload.writeUInt32BE(nonce, 0);
    payload.writeUInt32BE(k, 4);
    return payload;
  };
  let serverCpu = 0;
  let genCpu = null;
  let rssPeak = 0;
  const sampler = setInterval(() => {
    if (measuring) rssPeak = Math.max(rssPeak, rssMiB(system.pid));
  }, 200);
  const started = performance.now();
  let next = 0;
  let windowOpenedAt = 0;
  await new Promise((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      for (; next < due; next++) {
        if (next === windowStart) {
          measuring = true;
          windowOpenedAt = performance.now();
          serverCpu = cpuSeconds(system.pid);
          genCpu = process.cpuUsage();
        }
        const k = next;
        const payload = payloadFor(k);
        const sent = performance.now();
        sentAt[k] = sent;
        void system.send(k % n, payload).then((error) => {
          if (error !== null) refused++;
          else if (k >= windowStart) ackLatencies.push(performance.now() - sent);
        });
      }
      if (next >= total) {
        clearInterval(tick);
        resolve();
      }
    }, 1);
  });
  const windowSeconds = (performance.now() - windowOpenedAt) / 1000;
  const serverCpuPercent = ((cpuSeconds(system.pid) - serverCpu) / windowSeconds) * 100;
  const gen = process.cpuUsage(genCpu);
  const genCpuPercent = ((gen.user + gen.system) / 1e6 / windowSeconds) * 100;
  const expected = total - windowStart;
  const drainUntil = performance.now() + drain * 1000;
  while (deliveredInWindow < expected && performance.now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 20));
  measuring = false;
  clearInterval(sampler);
  const lost = expected - deliveredInWindow;
  const spanSeconds = Math.max(duration, (lastDelivery - windowOpenedAt) / 1000);
  const f = (value) => Math.round(value * 10) / 10;
  const result = {
    system: system.name,
    rate,
    n,
    delivered_per_s: Math.round(deliveredInWindow / spanSeconds),
    p50_ms: f(percentile(latencies, 50) ?? 0),
    p95_ms: f(percentile(latencies, 95) ?? 0),
    p99_ms: f(percentile(latencies, 99) ?? 0),
    max_ms: f(latencies.reduce((most, value) => (value > most ? value : most), 0)),
    ack_p50_ms: f(percentile(ackLatencies, 50) ?? 0),
    ack_p99_ms: f(percentile(ackLatencies, 99) ?? 0),
    lost,
    duplicates,
    refused,
    server_rss_peak_mib: Math.round(rssPeak),
    server_cpu_percent: Math.round(serverCpuPercent),
    gen_cpu_percent: Math.round(genCpuPercent),
  };
  result.gen_saturated = genCpuPercent > 90;
  result.sustainable = result.p99_ms < 100 && lost === 0 && duplicates === 0 && refused === 0 && !result.gen_saturated;
  // Let the server settle (acks, sweeps) before the next rate.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return result;
}

async function sweep(system) {
  let best = null;
  for (const rate of rates) {
    const result = await runRate(system, rate);
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
  console.error(`bench/ring on ${describeMachine()}; server on CPU ${a['server-cpu']}, generator on CPU ${a['gen-cpu']}; N=${n}, ${bodyBytes} B, ${duration} s per rate`);
  const best = {};
  for (const name of systems) {
    const system = name === 'bare' ? await startBare() : await startPairwise();
    try {
      best[system.name] = await sweep(system);
    } finally {
      await system.stop();
    }
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
