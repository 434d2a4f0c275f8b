#!/usr/bin/env node
// bench/relay: N devices exchanging M messages over loopback, through the real Pairwise server
// (a child process, SQLite in a temporary directory) and, as a floor, through a bare `ws` relay
// written below (no crypto, no storage, no authentication) driven by the same closed loop.
//
// Devices come in pairs of accounts with one device each; every device sends M messages to its
// partner, one at a time (the SDK keeps one send in flight per client), so throughput comes from
// the devices running in parallel. A round ends when every message has reached its recipient.
// Figures are medians over the measured rounds, after session setup and one full warm-up round
// (JIT, SQLite's cache, socket buffers: a first round runs at a fraction of the later ones); the
// two systems alternate round by round so that drift on a shared machine hits both alike.
//
// All clients share this one process and each server is a process of its own, so on 2 cores the
// Pairwise figure is the whole loop: client crypto, the server, SQLite and the network stack.
//
//   node bench/relay/run.mjs [--devices 8] [--messages 300] [--rounds 5] [--big] [--max-seconds 180]
//   (or RELAY_DEVICES, RELAY_MESSAGES, RELAY_ROUNDS in the environment; flags win)
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket, { WebSocketServer } from 'ws';
import { describeMachine, median, percentile } from '../machine.mjs';

const SCRIPT = fileURLToPath(import.meta.url);
const LOOPBACK = '127.0.0.1';
/** The default run (30-90 s on 2 cores, depending on other load) and `--big`. */
const PRESETS = {
  default: { devices: 8, messages: 300, rounds: 5, maxSeconds: 180 },
  big: { devices: 16, messages: 600, rounds: 3, maxSeconds: 900 },
};
/** Text length of every benchmark message, so that every sendMessage frame has the same size. */
const TEXT_CHARS = 64;
/** Bare relay frames start with a 4-byte peer id; this one marks the relay's ack to the sender. */
const ACK_ID = 0xffffffff;
/** A round slower than this (or than a minute) is taken as stuck and fails the run instead of hanging it. */
const SLOWEST_MSGS_PER_SECOND = 50;
/** How often the servers' memory is sampled during the measured rounds. */
const RSS_SAMPLE_MS = 50;
/** Linux counts process CPU time in ticks of 1/100 s (getconf CLK_TCK). */
const CLOCK_TICKS_PER_SECOND = 100;

// ---------------------------------------------------------------------------------------------
// The bare relay: a child process, like the Pairwise server. Each client connects with its id;
// a binary frame names the recipient in its first 4 bytes, and the relay forwards it with the
// sender's id in their place, then acknowledges it to the sender. Nothing is checked or stored.

function serveBareRelay() {
  const sockets = new Map();
  const ack = Buffer.alloc(4);
  ack.writeUInt32BE(ACK_ID, 0);
  const relay = new WebSocketServer({ host: LOOPBACK, port: 0, maxPayload: 1024 * 1024 });
  relay.on('connection', (socket, request) => {
    const id = Number(new URL(request.url ?? '/', 'ws://relay').searchParams.get('id'));
    sockets.set(id, socket);
    socket.on('close', () => sockets.get(id) === socket && sockets.delete(id));
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

/** Starts the bare relay as a child process of this script; resolves with its port, pid and stop(). */
function startBareRelay() {
  const child = spawn(process.execPath, [SCRIPT, '--serve-bare-relay'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error('the bare relay did not start within 10 s')), 10_000);
    void exited.then((code) => reject(new Error(`the bare relay exited with ${code}`)));
    child.stdout.on('data', (chunk) => {
      output += chunk.toString('utf8');
      const match = /"port":(\d+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      const stop = async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited;
      };
      resolve({ port: Number(match[1]), pid: child.pid, stop });
    });
  });
}

/** The same workload on the bare relay: `count` ws clients, client i's partner is i ^ 1. */
async function bareSystem(relay, count, frameBytes) {
  const devices = await Promise.all(
    Array.from({ length: count }, (_, id) => {
      const socket = new WebSocket(`ws://${LOOPBACK}:${relay.port}/?id=${id}`, { maxPayload: 1024 * 1024 });
      const device = { id, peer: id ^ 1, socket, acked: null, onMessage: null };
      socket.on('message', (data) => {
        if (data.readUInt32BE(0) === ACK_ID) device.acked?.();
        else device.onMessage?.(data.readDoubleBE(4));
      });
      return new Promise((resolve, reject) => {
        socket.once('open', () => resolve(device));
        socket.once('error', reject);
      });
    }),
  );
  return {
    name: 'bare ws relay',
    pid: relay.pid,
    devices,
    listen(onDelivered) {
      for (const device of devices) device.onMessage = onDelivered;
    },
    send(device, sentAt) {
      const frame = Buffer.alloc(frameBytes);
      frame.writeUInt32BE(device.peer, 0);
      frame.writeDoubleBE(sentAt, 4);
      const acked = new Promise((resolve) => (device.acked = resolve));
      device.socket.send(frame);
      return acked;
    },
    close: () => Promise.all(devices.map(({ socket }) => new Promise((resolve) => (socket.once('close', resolve), socket.close())))),
  };
}

// ---------------------------------------------------------------------------------------------
// Pairwise: the real server as a child process, real SDK clients with memory stores. The
// Pairwise modules are imported here, not at the top, so that the bare relay's child process
// (this same script) loads only `ws` and its memory figure is that of a bare relay.

/** A socket factory that records the size of every frame the clients send while `sizes.recording`. */
function countingSocketFactory(base, sizes) {
  return (url) => {
    const socket = base(url);
    const send = socket.send.bind(socket);
    socket.send = (data) => {
      if (sizes.recording) sizes.values.push(data.byteLength);
      send(data);
    };
    return socket;
  };
}

/** The message text: the send time on this process's clock, padded to a fixed length. */
function benchText(sentAt) {
  return `${sentAt.toFixed(3)} `.padEnd(TEXT_CHARS, 'x');
}

async function pairwiseSystem(server, count, sizes) {
  const { PairwiseClient } = await import('@pairwise/client/pairwise-client');
  const { connectOptions } = await import('@pairwise/testing/test-clients');
  const socketFactory = countingSocketFactory(connectOptions(server).socketFactory, sizes);
  const devices = await Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const client = await PairwiseClient.createAccount({
        ...connectOptions(server),
        socketFactory,
        username: `device${index}`,
        deviceName: `bench device ${index}`,
        // Receipts would double the traffic; this measures messages alone.
        deliveryReceipts: false,
      });
      await client.ready();
      return { index, client, peer: `device${index ^ 1}`, onMessage: null };
    }),
  );
  const problems = { decryptFailed: 0 };
  for (const device of devices) {
    device.client.on('message', (message) => {
      if (!message.outgoing) device.onMessage?.(Number.parseFloat(message.text));
    });
    device.client.on('decrypt-failed', () => problems.decryptFailed++);
  }
  return {
    name: 'Pairwise',
    pid: server.pid,
    devices,
    problems,
    listen(onDelivered) {
      for (const device of devices) device.onMessage = onDelivered;
    },
    send: (device, sentAt) => device.client.sendText(device.peer, benchText(sentAt)),
    close: () => Promise.all(devices.map(({ client }) => client.close())),
  };
}

// ---------------------------------------------------------------------------------------------
// The closed loop both systems run.

/**
 * One round: each of `senders` sends `messages` messages to its partner, awaiting each ack
 * before the next send. Ends when every message has been delivered; the rate counts from the
 * first send to the last delivery.
 */
async function runRound(system, messages, senders = system.devices) {
  const expected = senders.length * messages;
  const ackMs = [];
  const deliveryMs = [];
  let lastDelivery = 0;
  let allDelivered;
  const delivered = new Promise((resolve) => (allDelivered = resolve));
  system.listen((sentAt) => {
    lastDelivery = performance.now();
    deliveryMs.push(lastDelivery - sentAt);
    if (deliveryMs.length === expected) allDelivered();
  });
  const cpuBefore = { clients: process.cpuUsage(), server: cpuSeconds(system.pid) };
  const started = performance.now();
  const loops = senders.map(async (device) => {
    for (let seq = 0; seq < messages; seq++) {
      const sentAt = performance.now();
      await system.send(device, sentAt);
      ackMs.push(performance.now() - sentAt);
    }
  });
  const timeoutMs = Math.max(60_000, (expected / SLOWEST_MSGS_PER_SECOND) * 1000);
  let timer;
  const timedOut = new Promise((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${system.name}: round timed out after ${timeoutMs} ms, ${deliveryMs.length} of ${expected} delivered`));
    }, timeoutMs);
  });
  try {
    await Promise.race([Promise.all([...loops, delivered]), timedOut]);
  } finally {
    clearTimeout(timer);
  }
  const seconds = (lastDelivery - started) / 1000;
  const clientCpu = process.cpuUsage(cpuBefore.clients);
  return {
    rate: expected / seconds,
    ackP50: percentile(ackMs, 50),
    ackP99: percentile(ackMs, 99),
    deliveryP50: percentile(deliveryMs, 50),
    deliveryP99: percentile(deliveryMs, 99),
    // Fractions of one core over the round.
    serverCpu: (cpuSeconds(system.pid) - cpuBefore.server) / seconds,
    clientCpu: (clientCpu.user + clientCpu.system) / 1e6 / seconds,
  };
}

/** Medians over rounds of every figure `runRound` returns, plus the rates themselves. */
function summarise(rounds) {
  const summary = { rates: rounds.map((round) => round.rate) };
  for (const key of Object.keys(rounds[0])) summary[key] = median(rounds.map((round) => round[key]));
  return summary;
}

// ---------------------------------------------------------------------------------------------
// A server child's resident memory (VmRSS) and CPU time, from /proc.

function memoryMiB(pid) {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

function cpuSeconds(pid) {
  // utime and stime are fields 14 and 15 of the line; field 3 is the first after "(command) ".
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1).split(' ');
  return (Number(fields[14 - 3]) + Number(fields[15 - 3])) / CLOCK_TICKS_PER_SECOND;
}

/** Samples `pid`'s RSS every RSS_SAMPLE_MS until the returned function is called; it returns the highest sample. */
function sampleRss(pid) {
  let peak = memoryMiB(pid);
  const timer = setInterval(() => (peak = Math.max(peak, memoryMiB(pid))), RSS_SAMPLE_MS);
  return () => {
    clearInterval(timer);
    return Math.max(peak, memoryMiB(pid));
  };
}

// ---------------------------------------------------------------------------------------------

function readOptions() {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string' },
      messages: { type: 'string' },
      rounds: { type: 'string' },
      big: { type: 'boolean', default: false },
      'max-seconds': { type: 'string' },
    },
  });
  const preset = values.big ? PRESETS.big : PRESETS.default;
  const whole = (name, raw, fallback, min, max) => {
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
    return value;
  };
  const options = {
    devices: whole('devices', values.devices ?? process.env.RELAY_DEVICES, preset.devices, 2, 64),
    messages: whole('messages', values.messages ?? process.env.RELAY_MESSAGES, preset.messages, 1, 100_000),
    rounds: whole('rounds', values.rounds ?? process.env.RELAY_ROUNDS, preset.rounds, 1, 20),
    maxSeconds: whole('max-seconds', values['max-seconds'], preset.maxSeconds, 10, 3600),
  };
  if (options.devices % 2 !== 0) throw new RangeError(`devices must be even (pairs of accounts), got ${options.devices}`);
  return options;
}

const loadAverage = () => `${os.loadavg().map((load) => load.toFixed(2)).join(' ')} (1, 5, 15 min) on ${os.availableParallelism()} cores`;
const number = (value, digits = 0) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ms = (value) => `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
/** value / floor with about two significant digits: 0.031, 0.54, 3.20, 47. */
const ratio = (value, floor) => {
  const r = value / floor;
  return r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(2) : r.toPrecision(2);
};

function report(options, bare, pairwise, memory) {
  const rows = [
    ['', 'msgs/s', 'ack p50', 'ack p99', 'deliv p50', 'deliv p99', 'server CPU', 'client CPU'],
    ...[bare, pairwise].map(({ name, summary: s }) => [
      name,
      number(s.rate),
      ms(s.ackP50),
      ms(s.ackP99),
      ms(s.deliveryP50),
      ms(s.deliveryP99),
      `${(s.serverCpu * 100).toFixed(0)}%`,
      `${(s.clientCpu * 100).toFixed(0)}%`,
    ]),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  console.log(`\nmedians over ${options.rounds} rounds; msgs/s = device-messages delivered per second; CPU in % of one core (the server process, and this process with every client)`);
  for (const row of rows) console.log(row.map((cell, column) => (column === 0 ? cell.padEnd(widths[0]) : cell.padStart(widths[column]))).join('  '));
  for (const { name, summary } of [bare, pairwise]) console.log(`${name} rounds: ${summary.rates.map((rate) => number(rate)).join(', ')} msgs/s`);

  const [b, p] = [bare.summary, pairwise.summary];
  console.log(`\nPairwise delivers ${number(p.rate)} msgs/s = ${ratio(p.rate, b.rate)} of the bare relay (${number(b.rate)} msgs/s)`);
  console.log(`send-ack latency: p50 ${ms(p.ackP50)} = ${ratio(p.ackP50, b.ackP50)}x the bare relay's, p99 ${ms(p.ackP99)} = ${ratio(p.ackP99, b.ackP99)}x`);
  console.log(`delivery latency: p50 ${ms(p.deliveryP50)} = ${ratio(p.deliveryP50, b.deliveryP50)}x the bare relay's, p99 ${ms(p.deliveryP99)} = ${ratio(p.deliveryP99, b.deliveryP99)}x`);
  if (p.clientCpu > 0.9) {
    console.log(`the clients' process was saturated (${(p.clientCpu * 100).toFixed(0)}% of a core): client-side crypto bounds the Pairwise rate here, so compare server CPU per message too`);
  }
  const perMessage = (s) => (s.serverCpu / s.rate) * 1e6;
  const [bareCpu, pairwiseCpu] = [perMessage(b), perMessage(p)];
  // CPU time is counted in 10 ms ticks: a bare relay round can be too short to register any.
  const versus = bareCpu > 0 ? `${ratio(pairwiseCpu, bareCpu)}x the bare relay's ${number(bareCpu)} µs` : 'the bare relay rounds were too short to measure';
  console.log(`server CPU per delivered message: Pairwise ${number(pairwiseCpu)} µs = ${versus}`);

  console.log(`\nserver RSS (MiB, from /proc/<pid>/status)`);
  const memoryRows = [
    ['', 'idle', 'after setup', 'peak', 'end'],
    ...[bare, pairwise].map(({ name }) => {
      const m = memory[name];
      return [name, ...[m.idle, m.setup, m.peak, m.end].map((value) => value.toFixed(1))];
    }),
  ];
  const memoryWidths = memoryRows[0].map((_, column) => Math.max(...memoryRows.map((row) => row[column].length)));
  for (const row of memoryRows) console.log(row.map((cell, column) => (column === 0 ? cell.padEnd(memoryWidths[0]) : cell.padStart(memoryWidths[column]))).join('  '));
  const [mb, mp] = [memory[bare.name], memory[pairwise.name]];
  console.log(
    `Pairwise peak RSS ${mp.peak.toFixed(1)} MiB = ${ratio(mp.peak, mb.peak)}x the bare relay's; growth idle to peak: Pairwise +${(mp.peak - mp.idle).toFixed(1)} MiB, bare relay +${(mb.peak - mb.idle).toFixed(1)} MiB`,
  );
  // Not VmHWM: the kernel updates the high-water mark lazily, so it can read below a sampled VmRSS.
  console.log(`(idle: before any client; after setup: accounts, sessions and warm-up done; peak: highest VmRSS sampled every ${RSS_SAMPLE_MS} ms during the measured rounds)`);
  if (pairwise.problems.decryptFailed > 0) console.log(`WARNING: ${pairwise.problems.decryptFailed} messages failed to decrypt`);
}

async function main() {
  const options = readOptions();
  const { devices, messages, rounds } = options;
  console.log(`bench/relay on ${describeMachine()}`);
  // Other work on the machine moves these figures a lot; the load average says whether there was any.
  console.log(`load average at start: ${loadAverage()}`);
  console.log(
    `${devices} devices = ${devices / 2} pairs of accounts, one device each; every device sends ${messages} messages per round to its partner, ` +
      `one in flight at a time (${number(devices * messages)} device-messages per round); ${rounds} measured rounds after a warm-up round; loopback only`,
  );

  const children = new Set();
  const dataDirs = new Set();
  const cleanups = [];
  // The run stops by itself whatever happens: past the deadline the servers are killed.
  const watchdog = setTimeout(() => {
    console.error(`bench/relay: stopped after ${options.maxSeconds} s (--max-seconds)`);
    for (const pid of children) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    process.exit(1);
  }, options.maxSeconds * 1000);
  watchdog.unref();
  try {
    const { startServerProcess, removeDataDir } = await import('@pairwise/testing/server-process');
    const server = await startServerProcess();
    children.add(server.pid);
    dataDirs.add(server.dataDir);
    cleanups.push(async () => {
      await server.stop();
      removeDataDir(server);
    });
    const relay = await startBareRelay();
    children.add(relay.pid);
    cleanups.push(relay.stop);
    const memory = {
      Pairwise: { idle: memoryMiB(server.pid) },
      'bare ws relay': { idle: memoryMiB(relay.pid) },
    };

    // Pairwise accounts, then sessions: the first message each way carries the PQXDH setup.
    const sizes = { recording: false, values: [] };
    const pairwise = await pairwiseSystem(server, devices, sizes);
    cleanups.push(pairwise.close);
    // One side first, then the other, so each pair sets up one session rather than two crossing.
    await runRound(pairwise, 2, pairwise.devices.filter((device) => device.index % 2 === 0));
    await runRound(pairwise, 2, pairwise.devices.filter((device) => device.index % 2 === 1));
    // The size of a sendMessage frame for a TEXT_CHARS text, sessions established: the bare
    // relay carries frames of the same size, so both move the same bytes per message.
    // The round's largest frames are its sendMessage frames (the rest are inbox acks); the median
    // of those ignores any one-off, such as a prekey upload.
    sizes.recording = true;
    await runRound(pairwise, 2);
    sizes.recording = false;
    const frameBytes = median(sizes.values.sort((a, b) => a - b).slice(-2 * devices));
    console.log(`Pairwise sendMessage frame: ${frameBytes} bytes for a ${TEXT_CHARS}-character text; the bare relay's frames are padded to the same size`);

    const bare = await bareSystem(relay, devices, frameBytes);
    cleanups.push(bare.close);
    await runRound(bare, messages);
    await runRound(pairwise, messages);
    memory.Pairwise.setup = memoryMiB(server.pid);
    memory['bare ws relay'].setup = memoryMiB(relay.pid);

    const peaks = [bare, pairwise].map((system) => sampleRss(system.pid));
    const results = { [bare.name]: [], [pairwise.name]: [] };
    for (let round = 0; round < rounds; round++) {
      // Alternate which goes first, so neither always follows the other's garbage collection.
      const order = round % 2 === 0 ? [bare, pairwise] : [pairwise, bare];
      for (const system of order) results[system.name].push(await runRound(system, messages));
    }
    const [barePeak, pairwisePeak] = peaks.map((stop) => stop());
    for (const [name, pid, peak] of [
      [bare.name, relay.pid, barePeak],
      [pairwise.name, server.pid, pairwisePeak],
    ]) {
      Object.assign(memory[name], { peak, end: memoryMiB(pid) });
    }
    bare.summary = summarise(results[bare.name]);
    pairwise.summary = summarise(results[pairwise.name]);
    report(options, bare, pairwise, memory);
    console.log(`load average at end: ${loadAverage()}`);
  } finally {
    // The watchdog stays armed (unref'd, so it holds nothing open) in case a cleanup hangs.
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => console.error(`cleanup failed: ${String(error)}`));
  }
}

if (process.argv.includes('--serve-bare-relay')) serveBareRelay();
else await main();
