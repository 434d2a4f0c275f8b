#!/usr/bin/env node
// bench/relay: N devices exchanging M messages over loopback, through the real Pairwise server
// (a child process, SQLite in a temporary directory) and, as a floor, through a bare `ws` relay
// written below (no crypto, no storage, no authentication) driven by the same closed loop.
//
// Devices come in pairs of accounts with one device each; every device sends M messages to its
// partner, one at a time (the SDK keeps one send in flight per client), so throughput comes from
// the devices running in parallel. A round ends when every message has reached its recipient.
// Figures are medians over the measured rounds, after session setup and one warm-up round; the
// two systems alternate round by round so that drift on a shared machine hits both alike.
//
// All clients share this one process and the server has the other core (on 2 cores), so the
// Pairwise figure is the whole loop: client crypto, the server, SQLite and the network stack.
//
//   node bench/relay/run.mjs [--devices 8] [--messages 300] [--rounds 3] [--big]
//   (or RELAY_DEVICES, RELAY_MESSAGES, RELAY_ROUNDS in the environment)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket, { WebSocketServer } from 'ws';
import { describeMachine, median, percentile } from '../machine.mjs';

const SCRIPT = fileURLToPath(import.meta.url);
const LOOPBACK = '127.0.0.1';
/** The bare relay's frame header: 4 bytes of peer id (recipient on the way in, sender on the way out). */
const ACK_ID = 0xffffffff;
/** Text length of every benchmark message, so that every sendMessage frame has the same size. */
const TEXT_CHARS = 64;
/** Upper bound on one round; a stuck round fails the run instead of hanging it. */
const ROUND_TIMEOUT_MS = 60_000;
/** How often the servers' memory is sampled during the rounds. */
const RSS_SAMPLE_MS = 50;
/** Linux reports process CPU time in clock ticks of 1/100 s (getconf CLK_TCK). */
const CLOCK_TICKS_PER_SECOND = 100;

// ---------------------------------------------------------------------------------------------
// The bare relay: a child process (like the Pairwise server) that forwards each binary frame to
// the client it names and acknowledges it to the sender. It imports nothing but `ws`.

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

/** Starts the bare relay as a child process; resolves with its port, pid and stop(). */
function startBareRelay() {
  const child = spawn(process.execPath, [SCRIPT, '--serve-bare-relay'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error('the bare relay did not start within 10 s')), 10_000);
    child.once('exit', (code) => reject(new Error(`the bare relay exited with ${code}`)));
    child.stdout.on('data', (chunk) => {
      output += chunk.toString('utf8');
      const match = /"port":(\d+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        port: Number(match[1]),
        pid: child.pid,
        stop: () => new Promise((done) => (child.exitCode !== null ? done() : (child.once('exit', () => done()), child.kill('SIGTERM')))),
      });
    });
  });
}

/** Connects `count` clients to the bare relay; client i's partner is i ^ 1. */
async function openBareDevices(port, count) {
  return Promise.all(
    Array.from({ length: count }, (_, id) => {
      const socket = new WebSocket(`ws://${LOOPBACK}:${port}/?id=${id}`, { maxPayload: 1024 * 1024 });
      const device = { id, peer: id ^ 1, socket, awaitingAck: null, onMessage: null };
      socket.on('message', (data) => {
        if (data.readUInt32BE(0) === ACK_ID) device.awaitingAck?.();
        else device.onMessage?.(data.readDoubleBE(8));
      });
      return new Promise((resolve, reject) => {
        socket.once('open', () => resolve(device));
        socket.once('error', reject);
      });
    }),
  );
}

/** One bare relay round: every device sends `messages` frames of `frameBytes` to its partner. */
function bareRound(devices, messages, frameBytes) {
  return runRound(devices.length * messages, (onDelivered) => {
    for (const device of devices) device.onMessage = onDelivered;
    return devices.map(async (device) => {
      const frame = Buffer.alloc(frameBytes);
      frame.writeUInt32BE(device.peer, 0);
      for (let seq = 0; seq < messages; seq++) {
        const sentAt = performance.now();
        frame.writeUInt32BE(seq, 4);
        frame.writeDoubleBE(sentAt, 8);
        // ws copies nothing until the frame is written, but the relay acks only after it has the
        // whole frame, so the buffer is free again once the ack arrives.
        const acked = new Promise((resolve) => (device.awaitingAck = resolve));
        device.socket.send(frame);
        await acked;
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Pairwise: the real server as a child process, real SDK clients with memory stores.

/** A socket factory that records the size of every frame the clients send. */
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

async function openPairwiseDevices(server, count, factorySizes) {
  const { PairwiseClient } = await import('@pairwise/client/pairwise-client');
  const { connectOptions } = await import('@pairwise/testing/test-clients');
  const base = connectOptions(server);
  const socketFactory = countingSocketFactory(base.socketFactory, factorySizes);
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
      return { index, client, peer: `device${index ^ 1}`, onMessage: null, decryptFailures: 0 };
    }),
  );
  for (const device of devices) {
    device.client.on('message', (message) => {
      if (!message.outgoing) device.onMessage?.(Number(message.text.slice(0, message.text.indexOf(' '))));
    });
    device.client.on('decrypt-failed', () => device.decryptFailures++);
  }
  return devices;
}

/** The message text: the send time (this process's performance clock), padded to a fixed length. */
function benchText(sentAt) {
  return `${sentAt.toFixed(3)} `.padEnd(TEXT_CHARS, 'x');
}

/** One Pairwise round: every device sends `messages` texts to its partner, one at a time. */
function pairwiseRound(devices, messages, senders = devices) {
  return runRound(senders.length * messages, (onDelivered) => {
    for (const device of devices) device.onMessage = onDelivered;
    return senders.map(async (device) => {
      for (let seq = 0; seq < messages; seq++) await device.client.sendText(device.peer, benchText(performance.now()));
    });
  }, (device) => device);
}

// ---------------------------------------------------------------------------------------------
// The closed-loop round shared by both systems.

/**
 * Runs one round of `expected` messages. `start(onDelivered)` installs the delivery callback and
 * returns one promise per sender; send-ack latency is measured by wrapping each send in the
 * senders' own loop, so it is taken here from the delivery side instead: see `timeSends`.
 */
async function runRound(expected, start) {
  const ackMs = [];
  const deliveryMs = [];
  let lastDelivery = 0;
  let resolveAll;
  const allDelivered = new Promise((resolve) => (resolveAll = resolve));
  const onDelivered = (sentAt) => {
    lastDelivery = performance.now();
    deliveryMs.push(lastDelivery - sentAt);
    if (deliveryMs.length === expected) resolveAll();
  };
  timeSends.sink = ackMs;
  const cpuBefore = cpuSnapshot();
  const started = performance.now();
  let timer;
  const timedOut = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`round timed out after ${ROUND_TIMEOUT_MS} ms: ${deliveryMs.length} of ${expected} delivered`)),
      ROUND_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([Promise.all([...start(onDelivered), allDelivered]), timedOut]);
  } finally {
    clearTimeout(timer);
    timeSends.sink = null;
  }
  const seconds = (lastDelivery - started) / 1000;
  return { rate: expected / seconds, seconds, ackMs, deliveryMs, cpu: cpuSince(cpuBefore, seconds) };
}

/** Where the current round's send-ack latencies go; senders record into it. */
const timeSends = { sink: null };

// Both systems' senders record ack latency through this wrapper (installed below), so the
// measurement is the same code path: performance.now() before the call, after the promise settles.
async function timed(send) {
  const sentAt = performance.now();
  await send(sentAt);
  timeSends.sink?.push(performance.now() - sentAt);
}

// ---------------------------------------------------------------------------------------------
// /proc readings of a server child: memory (VmRSS, VmHWM) and CPU time.

function procStatus(pid, field) {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

function procCpuSeconds(pid) {
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15 of the line.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** Samples a process's RSS until stopped; returns the highest sample. */
function sampleRss(pid) {
  let peak = procStatus(pid, 'VmRSS');
  const timer = setInterval(() => (peak = Math.max(peak, procStatus(pid, 'VmRSS'))), RSS_SAMPLE_MS);
  return () => {
    clearInterval(timer);
    return Math.max(peak, procStatus(pid, 'VmRSS'));
  };
}

let cpuPids = {};

function cpuSnapshot() {
  return { self: process.cpuUsage(), servers: Object.fromEntries(Object.entries(cpuPids).map(([name, pid]) => [name, procCpuSeconds(pid)])) };
}

function cpuSince(before, seconds) {
  const self = process.cpuUsage(before.self);
  const servers = Object.fromEntries(Object.entries(cpuPids).map(([name, pid]) => [name, (procCpuSeconds(pid) - before.servers[name]) / seconds]));
  return { clients: (self.user + self.system) / 1e6 / seconds, servers };
}
