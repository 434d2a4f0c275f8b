// One rate of the 1:1 ring, open loop, and its figures; shared by bench/ring and bench/idle.
// `system` is what run.mjs describes: { name, pid, listen(handler), send(index, payload) }.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { percentile } from '../machine.mjs';
import { cpuSeconds, rssMiB } from './processes.mjs';

/** The first bytes of every payload: a run nonce (u32) and the message's number k (u32). */
export const HEADER_BYTES = 24;

/**
 * Sends `rate` messages/s from client k mod n to its neighbour for warmup + duration s (the first
 * warmup s not counted), waits at most drain s for the rest, and returns the figures.
 */
export async function runRate(system, rate, { n, warmup, duration, drain, bodyBytes }) {
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
