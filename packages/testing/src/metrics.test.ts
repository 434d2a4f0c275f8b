// Integration: the real server process with METRICS_PORT set, two SDK clients, and the metrics
// scraped between steps (SPEC OPS-2, OPS-3, OPS-4). Delivery receipts are off so that every send
// is one the test made.
import { MemoryStore } from '@pairwise/client/memory-store';
import { PairwiseClient } from '@pairwise/client/pairwise-client';
import type { ChatMessage } from '@pairwise/client/client-events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawConnection } from './raw-connection.js';
import { freePort, removeDataDir, startServerProcess, type ServerProcess } from './server-process.js';
import { connectOptions, eventually } from './test-clients.js';
import { parseSamples, sampleValue } from '../../server/src/test-support/prometheus-text.js';

let server: ServerProcess;
let metricsPort: number;

beforeAll(async () => {
  metricsPort = await freePort();
  server = await startServerProcess({ env: { METRICS_PORT: String(metricsPort), NODE_NAME: 'it-node' } });
});
afterAll(async () => {
  await server.stop();
  removeDataDir(server);
});

async function scrape(): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

/** The sample's value now, minus its value in `before`. */
async function grownBy(before: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  return sampleValue(await scrape(), name, labels) - sampleValue(before, name, labels);
}

const depth = async (): Promise<number> => sampleValue(await scrape(), 'pairwise_inbox_depth');

function account(username: string, store = new MemoryStore()): Promise<PairwiseClient> {
  return PairwiseClient.createAccount({ ...connectOptions(server, store), deliveryReceipts: false, username, deviceName: `${username}'s phone` }).then(async (client) => {
    await client.ready();
    return client;
  });
}

function inbox(client: PairwiseClient): ChatMessage[] {
  const seen: ChatMessage[] = [];
  client.on('message', (message) => seen.push(message));
  return seen;
}

describe('[OPS-4] metrics of a running server', () => {
  it('count sends, deliveries and acknowledgements exactly, and the inbox depth falls back once devices acknowledge', async () => {
    const alice = await account('alice_metrics');
    const bobStore = new MemoryStore();
    const bob = await account('bob_metrics', bobStore);
    const got = inbox(bob);
    // The first message sets the session up; what is counted starts after it.
    await alice.sendText('bob_metrics', 'hello');
    await eventually(() => got.length === 1, 10_000, 'first message');
    await eventually(async () => (await depth()) === 0, 5000, 'first message acknowledged');
    let before = await scrape();
    expect(sampleValue(before, 'pairwise_open_connections')).toBe(2);
    expect(sampleValue(before, 'pairwise_authenticated_devices')).toBe(2);

    for (let i = 0; i < 5; i++) await alice.sendText('bob_metrics', `online ${i}`);
    await eventually(() => got.length === 6, 10_000, 'five messages');
    await eventually(async () => (await depth()) === 0, 5000, 'five messages acknowledged');
    expect(await grownBy(before, 'pairwise_sends_accepted_total')).toBe(5);
    expect(await grownBy(before, 'pairwise_deliveries_pushed_total')).toBe(5);
    expect(await grownBy(before, 'pairwise_acks_received_total')).toBe(5);
    expect(await grownBy(before, 'pairwise_bus_events_published_total', { type: 'inbox' })).toBe(5);
    expect(await grownBy(before, 'pairwise_bus_events_received_total', { type: 'inbox' })).toBe(5);
    // Every send in exactly one commit, however they were grouped.
    expect(await grownBy(before, 'pairwise_store_commit_batch_size_sum')).toBe(5);
    expect(await grownBy(before, 'pairwise_store_commit_duration_seconds_count')).toBeGreaterThanOrEqual(1);

    // Bob's phone is away: what is sent to it waits in the store.
    await bob.close();
    await eventually(async () => sampleValue(await scrape(), 'pairwise_authenticated_devices') === 1, 5000, 'bob gone');
    before = await scrape();
    for (let i = 0; i < 3; i++) await alice.sendText('bob_metrics', `away ${i}`);
    expect(await depth()).toBe(3);
    expect(await grownBy(before, 'pairwise_deliveries_pushed_total')).toBe(0);

    const back = await PairwiseClient.open({ ...connectOptions(server, bobStore), deliveryReceipts: false });
    if (back === null) throw new Error('bob has no identity');
    const later = inbox(back);
    await back.ready();
    await eventually(() => later.length === 3, 10_000, 'backlog');
    await eventually(async () => (await depth()) === 0, 5000, 'backlog acknowledged');
    expect(await grownBy(before, 'pairwise_sends_accepted_total')).toBe(3);
    expect(await grownBy(before, 'pairwise_deliveries_pushed_total')).toBe(3);
    expect(await grownBy(before, 'pairwise_acks_received_total')).toBe(3);
    await alice.close();
    await back.close();
  });

  it('count a refused authentication by reason and by error code', async () => {
    const store = new MemoryStore();
    const carol = await account('carol_metrics', store);
    const before = await scrape();
    const raw = await RawConnection.open(server);
    // Signed for another origin: the signature does not verify for this server.
    expect((await raw.authenticateAs(store, 'https://phishing.example')).error?.code).toBe('AUTH_FAILED');
    await raw.closed();
    expect(await grownBy(before, 'pairwise_auth_failures_total', { reason: 'signature' })).toBe(1);
    expect(await grownBy(before, 'pairwise_auth_failures_total', { reason: 'clock-skew' })).toBe(0);
    const after = await scrape();
    const refused = parseSamples(after).find((sample) => sample.name === 'pairwise_requests_refused_total' && sample.labels.code === 'AUTH_FAILED');
    const refusedBefore = parseSamples(before).find((sample) => sample.name === 'pairwise_requests_refused_total' && sample.labels.code === 'AUTH_FAILED');
    expect((refused?.value ?? 0) - (refusedBefore?.value ?? 0)).toBe(1);
    await carol.close();
  });

  it('label every series with NODE_NAME, and serve the metrics only on their own port', async () => {
    const text = await scrape();
    const samples = parseSamples(text);
    expect(samples.some((sample) => sample.name === 'process_cpu_user_seconds_total')).toBe(true);
    for (const sample of samples) expect(sample.labels.node, sample.name).toBe('it-node');
    // The public port has no /metrics (at most the web app's page for an unknown route).
    const publicAnswer = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(await publicAnswer.text()).not.toContain('pairwise_');
  });
});

describe('[OPS-2] [OPS-3] probes of a running server', () => {
  it('/healthz and /readyz answer 200 on the public port and on the metrics port', async () => {
    for (const port of [server.port, metricsPort]) {
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ ok: true });
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ ok: true });
    }
  });
});
