#!/usr/bin/env node
// bench/idle: what idle authenticated devices cost the real Pairwise server, against the aim of
// 100,000 of them on one node within 3 GB of server RSS, and whether it still serves the 1:1 ring
// (bench/ring) at --ring-rate meanwhile.
//
// The server runs under `taskset -c --server-cpu` with its pending-socket and registration limits
// raised (one generator address opens thousands of sockets). Every idle device is a real one: its
// account is registered (see register-accounts.mjs for --register lean|sdk), then it signs in with
// its device key over a raw WebSocket, as bench/ring's devices do, and stays connected doing
// nothing. Generator child processes (generator.mjs, pinned to --gen-cpu once registered) hold the
// sockets, from source addresses 127.0.0.2, 127.0.0.3, ... with --per-address sockets each.
//
// Each socket is a file descriptor on both ends. The script reads the server's open-file limit
// from /proc, keeps the server's own margin (DESCRIPTOR_MARGIN, packages/server/src/descriptor-
// limit.ts) free beyond what it holds already, and opens min(--devices, what is left), saying so
// when that caps the run; a generator process holds at most its own limit less a margin, and
// there are as many as needed.
//
// Steps: server + --ring-n ring devices; the idle accounts registered (rate printed); the ring at
// --ring-rate for 10 s to warm the server up (not counted), then measured with no idle devices;
// after --settle s, server RSS; the idle devices signed in (rate printed); after
// --settle s, server RSS and descriptors again; the ring at --ring-rate with the idle devices
// connected; whether they all still are. Printed: RSS before and after, per idle connection
// (MiB, KiB), a linear projection to 100,000 (labelled as one), the two rings side by side, the
// machine. Timings are printed, never asserted. Garbage collection moves the server's RSS by tens
// of MiB (--settle s before each reading lets V8's memory reducer run): a run of a few thousand
// devices says little per connection; the full-size one is the figure.
//
//   npm run bench:idle -- [--devices 100000] [--per-address 5000] [--children auto]
//                         [--register lean|sdk] [--ring-rate 1000] [--duration 15] [--ring-n 200]
//                         [--register-concurrency 20] [--signin-concurrency 100] (per generator)
//                         [--settle 10] [--server-cpu 0] [--gen-cpu 1] [--warmup 2] [--drain 5] [--body-bytes 1024]
import { fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DESCRIPTOR_MARGIN } from '../../packages/server/dist/descriptor-limit.js';
import { describeMachine } from '../machine.mjs';
import { startPairwise } from '../ring/pairwise-system.mjs';
import { cpuSeconds, pin, rssMiB } from '../ring/processes.mjs';
import { HEADER_BYTES, runRate } from '../ring/run-rate.mjs';
import { RegisterMode } from './register-accounts.mjs';

const SCRIPT = fileURLToPath(import.meta.url);
const GENERATOR = fileURLToPath(new URL('./generator.mjs', import.meta.url));
/** Descriptors a generator process keeps for itself (IPC, stdio, libuv) beyond its sockets. */
const GENERATOR_MARGIN = 256;
/**
 * The server's MAX_PENDING_CONNECTIONS (and per address): the generators have at most
 * children x concurrency sockets signing in or registering at a time, checked below to fit.
 */
const PENDING_BOUND = 4000;
/** The uncounted ring before the first measured one. */
const WARM_UP_SECONDS = 10;
/** The projection's target and the aim's budget (3 GB, taken as GiB). */
const TARGET_DEVICES = 100_000;
const AIM_MIB = 3 * 1024;

const { values: a } = parseArgs({
  options: {
    devices: { type: 'string', default: String(TARGET_DEVICES) },
    'per-address': { type: 'string', default: '5000' },
    children: { type: 'string', default: 'auto' },
    register: { type: 'string', default: RegisterMode.Lean },
    'register-concurrency': { type: 'string', default: '20' },
    'signin-concurrency': { type: 'string', default: '100' },
    'ring-n': { type: 'string', default: '200' },
    'ring-rate': { type: 'string', default: '1000' },
    duration: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '2' },
    drain: { type: 'string', default: '5' },
    'body-bytes': { type: 'string', default: '1024' },
    settle: { type: 'string', default: '10' },
    'server-cpu': { type: 'string', default: '0' },
    'gen-cpu': { type: 'string', default: '1' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (a.help) {
  console.log(readFileSync(SCRIPT, 'utf8').split('\n').filter((line) => line.startsWith('//')).join('\n'));
  process.exit(0);
}

function whole(name, min, max) {
  const value = Number(a[name]);
  if (!Number.isInteger(value) || value < min || value > max) fail(`--${name} must be a whole number from ${min} to ${max}`);
  return value;
}

function fail(message) {
  console.error(`bench/idle: ${message}`);
  process.exit(2);
}

const target = whole('devices', 1, 1_000_000);
/** Sockets per source address: below the ephemeral port range of one (32768-60999 by default). */
const perAddress = whole('per-address', 1, 25_000);
const registerConcurrency = whole('register-concurrency', 1, 1000);
const signInConcurrency = whole('signin-concurrency', 1, 1000);
const settle = whole('settle', 0, 120);
const ringOptions = {
  n: whole('ring-n', 2, 10_000),
  warmup: whole('warmup', 0, 60),
  duration: whole('duration', 1, 600),
  drain: whole('drain', 1, 60),
  bodyBytes: whole('body-bytes', HEADER_BYTES, 64 * 1024),
};
const ringRate = whole('ring-rate', 1, 100_000);
const childrenAsked = a.children === 'auto' ? null : whole('children', 1, 64);
if (!Object.values(RegisterMode).includes(a.register)) fail(`--register must be one of ${Object.values(RegisterMode).join(', ')}`);

/** The soft and hard "Max open files" of a process, from /proc. */
function openFileLimits(pid) {
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  const value = (text) => (text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text));
  return { soft: value(match[1]), hard: value(match[2]) };
}

function openFiles(pid) {
  return readdirSync(`/proc/${pid}/fd`).length;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (value) => `${Math.round(value)} MiB`;

/** A generator process; `ask(message)` resolves with its answer, and rejects on its error. */
function startGenerator() {
  const child = fork(GENERATOR, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let waiting = null;
  child.on('message', (message) => {
    const current = waiting;
    waiting = null;
    if (message.type === 'error') current?.reject(new Error(`generator ${child.pid}: ${message.message}`));
    else current?.resolve(message);
  });
  child.once('exit', (code) => waiting?.reject(new Error(`generator ${child.pid} exited with ${code}`)));
  return {
    pid: child.pid,
    ask(message) {
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
        child.send(message);
      });
    },
    stop() {
      if (child.exitCode !== null) return Promise.resolve();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'stop' });
      return exited;
    },
  };
}

/** How many idle devices the server's descriptors allow, and why. */
function descriptorBudget(serverPid) {
  const limits = openFileLimits(serverPid);
  const held = openFiles(serverPid);
  const room = limits.soft - held - DESCRIPTOR_MARGIN;
  console.log(
    `server descriptors: limit ${limits.soft} (hard ${limits.hard}), ${held} open (listener, database, ${ringOptions.n} ring sockets), ` +
      `${DESCRIPTOR_MARGIN} kept free as the server's margin: room for ${room} idle sockets`,
  );
  const count = Math.max(0, Math.min(target, room));
  if (count < target) {
    console.log(
      `CAPPED: opening ${count} idle devices, not the ${target} asked for: the server process may open only ${limits.soft} files ` +
        `(hard limit ${limits.hard}; raising it needs root or CAP_SYS_RESOURCE, e.g. LimitNOFILE= or ulimit -Hn)`,
    );
  }
  return count;
}

/** Consecutive runs of `perAddress` sockets from 127.0.0.2 up, for the devices first..first+count-1. */
function sourceAddresses(first, count) {
  const runs = [];
  for (let i = first; i < first + count; ) {
    const slot = Math.floor(i / perAddress);
    const end = Math.min(first + count, (slot + 1) * perAddress);
    runs.push({ address: `127.0.0.${2 + slot}`, count: end - i });
    i = end;
  }
  return runs;
}

function ringLine(label, r) {
  return `  ${label.padEnd(28)} ${String(r.delivered_per_s).padStart(6)}/s  p50 ${String(r.p50_ms).padStart(6)} ms  p99 ${String(r.p99_ms).padStart(6)} ms  max ${String(r.max_ms).padStart(6)} ms  lost ${r.lost}  dup ${r.duplicates}  refused ${r.refused}  server ${r.server_cpu_percent}% CPU${r.gen_saturated ? '  (generator saturated: does not count)' : ''}`;
}

/** How many generator processes, each with which accounts (first, count), from the fd limits. */
function planGenerators(count) {
  const room = openFileLimits(process.pid).soft - GENERATOR_MARGIN;
  const children = childrenAsked ?? Math.ceil(count / room);
  const share = Math.ceil(count / children);
  if (share > room) throw new Error(`${share} sockets per generator process is more than its open-file limit allows (${room}): raise --children`);
  const inFlight = children * Math.max(registerConcurrency, signInConcurrency);
  if (inFlight + ringOptions.n > PENDING_BOUND) throw new Error(`generators x concurrency (${inFlight}) plus the ring must stay below ${PENDING_BOUND}`);
  const addresses = Math.ceil(count / perAddress);
  if (addresses > 253) throw new Error(`${addresses} source addresses needed (127.0.0.2-254 at most): raise --per-address`);
  console.log(`${children} generator process(es) of at most ${share} sockets, from ${addresses} source address(es) 127.0.0.2-${1 + addresses}, ${perAddress} each`);
  return Array.from({ length: children }, (_, c) => ({ first: c * share, count: Math.max(0, Math.min(share, count - c * share)) }));
}

/** Asks every generator the same question (plus its own part) and waits for all; returns the seconds and the server's CPU. */
async function askAll(system, generators, messageFor) {
  const cpu = cpuSeconds(system.pid);
  const started = performance.now();
  await Promise.all(generators.map((g, c) => g.ask(messageFor(c))));
  const seconds = (performance.now() - started) / 1000;
  return { seconds, serverCpuSeconds: cpuSeconds(system.pid) - cpu };
}

async function main() {
  const started = performance.now();
  const elapsed = () => `[${((performance.now() - started) / 1000).toFixed(0)} s]`;
  pin(process.pid, a['gen-cpu']);
  console.log(`bench/idle on ${describeMachine()}; server on CPU ${a['server-cpu']}, generators on CPU ${a['gen-cpu']}`);
  const system = await startPairwise({
    n: ringOptions.n,
    serverCpu: a['server-cpu'],
    env: {
      MAX_PENDING_CONNECTIONS_PER_ADDRESS: String(PENDING_BOUND),
      MAX_PENDING_CONNECTIONS: String(PENDING_BOUND),
      REGISTRATIONS_PER_HOUR_PER_ADDRESS: '1000000',
    },
  });
  const generators = [];
  try {
    const count = descriptorBudget(system.pid);
    if (count === 0) throw new Error('the server has no descriptors to spare for idle devices');
    const shares = planGenerators(count);

    // Registration is set-up, not measurement: the generators may use every core for it.
    generators.push(...shares.map(() => startGenerator()));
    for (const generator of generators) pin(generator.pid, `0-${os.cpus().length - 1}`);
    const registering = await askAll(system, generators, (c) => ({
      type: 'register',
      mode: a.register,
      url: system.url,
      origin: system.origin,
      ...shares[c],
      prefix: 'idle',
      concurrency: registerConcurrency,
    }));
    console.log(
      `registered ${count} idle accounts (${a.register}) in ${registering.seconds.toFixed(1)} s: ${Math.round(count / registering.seconds)}/s, ` +
        `server ${Math.round((registering.serverCpuSeconds / registering.seconds) * 100)}% CPU  ${elapsed()}`,
    );
    for (const generator of generators) pin(generator.pid, a['gen-cpu']);

    // The server's first seconds of sends run cold (JIT, statement cache): near its sustainable
    // rate that alone passes p99 100 ms, so a short ring, not counted, comes first.
    const warmUp = await runRate(system, ringRate, { ...ringOptions, duration: WARM_UP_SECONDS });
    console.log(`ring at ${ringRate}/s:`);
    console.log(`${ringLine(`warm-up, ${WARM_UP_SECONDS} s, not counted`, warmUp)}  ${elapsed()}`);
    const ringBefore = await runRate(system, ringRate, ringOptions);
    console.log(`${ringLine('no idle devices', ringBefore)}  ${elapsed()}`);

    await sleep(settle * 1000);
    const before = { rss: rssMiB(system.pid), files: openFiles(system.pid) };
    const connecting = await askAll(system, generators, (c) => ({
      type: 'connect',
      url: system.url,
      origin: system.origin,
      addresses: sourceAddresses(shares[c].first, shares[c].count),
      concurrency: signInConcurrency,
    }));
    console.log(
      `signed in ${count} idle devices in ${connecting.seconds.toFixed(1)} s: ${Math.round(count / connecting.seconds)}/s, ` +
        `server ${((connecting.serverCpuSeconds * 1000) / count).toFixed(2)} ms CPU each  ${elapsed()}`,
    );
    await sleep(settle * 1000);
    const after = { rss: rssMiB(system.pid), files: openFiles(system.pid), idle: await idleStatus(generators) };

    const ringDuring = await runRate(system, ringRate, ringOptions);
    const afterRing = { rss: rssMiB(system.pid), idle: await idleStatus(generators) };
    console.log(`${ringLine(`with ${count} idle devices`, ringDuring)}  ${elapsed()}`);

    const perConnection = (after.rss - before.rss) / count;
    const projected = before.rss + perConnection * TARGET_DEVICES;
    console.log(`\nserver RSS with ${count} idle authenticated devices${count < target ? ` (capped from ${target}, see above)` : ''}:`);
    console.log(`  before                 ${mib(before.rss)} (${ringOptions.n} ring devices connected, ${before.files} descriptors)`);
    console.log(`  after, settled ${settle} s     ${mib(after.rss)} (+${after.files - before.files} descriptors; the generators hold ${after.idle.open} signed-in sockets)`);
    console.log(`  after the ring         ${mib(afterRing.rss)} (peak during it ${ringDuring.server_rss_peak_mib} MiB)`);
    if (perConnection > 0) {
      console.log(`  per idle connection    ${perConnection.toFixed(4)} MiB = ${(perConnection * 1024).toFixed(1)} KiB`);
      console.log(
        `  PROJECTION, linear, not measured: ${TARGET_DEVICES} idle devices ~ ${mib(projected)} (${(projected / 1024).toFixed(2)} GiB), ` +
          `${projected <= AIM_MIB ? 'within' : 'over'} the 3 GB aim (${AIM_MIB} MiB)`,
      );
    } else {
      console.log(`  per idle connection    not measurable: garbage collection moved RSS by more than ${count} devices cost (run more of them)`);
    }
    console.log(`\nring at ${ringRate}/s (${ringOptions.n} devices, ${ringOptions.bodyBytes} B, ${ringOptions.duration} s measured):`);
    console.log(ringLine('no idle devices', ringBefore));
    console.log(ringLine(`with ${count} idle devices`, ringDuring));
    const { idle } = afterRing;
    console.log(`  idle devices after the ring: ${idle.open} of ${count} still open, ${idle.closed} closed${idle.closed > 0 ? ` (close codes ${JSON.stringify(idle.closeCodes)})` : ''}`);
    console.log(`  machine: ${describeMachine()}`);
    console.log(`  took ${((performance.now() - started) / 1000).toFixed(0)} s`);
    console.log(
      JSON.stringify({
        devices_asked: target,
        devices: count,
        register_per_s: Math.round(count / registering.seconds),
        signin_per_s: Math.round(count / connecting.seconds),
        rss_before_mib: Math.round(before.rss),
        rss_after_mib: Math.round(after.rss),
        rss_per_connection_kib: Math.round(perConnection * 1024 * 10) / 10,
        projected_rss_100k_mib: Math.round(projected),
        ring_no_idle: ringBefore,
        ring_with_idle: ringDuring,
        idle_open_after_ring: idle.open,
      }),
    );
  } finally {
    await Promise.all(generators.map((g) => g.stop()));
    await system.stop();
  }
}

async function idleStatus(generators) {
  const answers = await Promise.all(generators.map((g) => g.ask({ type: 'status' })));
  const closeCodes = {};
  for (const answer of answers) for (const [code, n] of Object.entries(answer.closeCodes)) closeCodes[code] = (closeCodes[code] ?? 0) + n;
  return { open: answers.reduce((sum, x) => sum + x.open, 0), closed: answers.reduce((sum, x) => sum + x.closed, 0), closeCodes };
}

await main().catch((error) => {
  console.error(`bench/idle: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
