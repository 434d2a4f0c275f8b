// The metrics' exposition (SPEC OPS-4): what each count means is documented in docs/operations.md,
// and here it is checked that the numbers bumped inline reach the scrape under those names.
import { describe, expect, it } from 'vitest';
import { AuthFailure, Metrics, type MetricSources } from './metrics.js';

/** `name{labels} value` of every sample line, the labels parsed. */
function samples(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (match === null) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

/** The value of the one sample named `name` whose labels include `labels`. */
function valueOf(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples(text).filter((s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

const sources = (overrides: Partial<MetricSources> = {}): MetricSources => ({
  inboxDepth: () => Promise.resolve(0),
  openConnections: () => 0,
  authenticatedDevices: () => 0,
  ...overrides,
});

describe('[OPS-4] metrics', () => {
  it('counts bumped inline appear at the next scrape, under their names', async () => {
    const metrics = new Metrics({ node: 'n1', processMetrics: false });
    expect(valueOf(await metrics.scrape(), 'pairwise_sends_accepted_total')).toBe(0);
    for (let i = 0; i < 3; i++) metrics.sendAccepted();
    for (let i = 0; i < 5; i++) metrics.deliveryPushed();
    metrics.acknowledged(4);
    metrics.acknowledged(1);
    const text = await metrics.scrape();
    expect(valueOf(text, 'pairwise_sends_accepted_total')).toBe(3);
    expect(valueOf(text, 'pairwise_deliveries_pushed_total')).toBe(5);
    expect(valueOf(text, 'pairwise_acks_received_total')).toBe(5);
    // A scrape reads the counts; it does not move them.
    expect(valueOf(await metrics.scrape(), 'pairwise_sends_accepted_total')).toBe(3);
  });

  it('labels authentication failures by reason and Bus events by type, every value from zero', async () => {
    const metrics = new Metrics({ node: 'n1', processMetrics: false });
    metrics.authFailed(AuthFailure.Signature);
    metrics.authFailed(AuthFailure.Signature);
    metrics.authFailed(AuthFailure.ClockSkew);
    metrics.busPublished('inbox');
    metrics.busReceived('inbox');
    metrics.busReceived('gap');
    const text = await metrics.scrape();
    expect(valueOf(text, 'pairwise_auth_failures_total', { reason: 'signature' })).toBe(2);
    expect(valueOf(text, 'pairwise_auth_failures_total', { reason: 'clock-skew' })).toBe(1);
    // Series that exist before their first event, so that rate() over them starts at once.
    expect(valueOf(text, 'pairwise_auth_failures_total', { reason: 'unknown-device' })).toBe(0);
    expect(samples(text).filter((s) => s.name === 'pairwise_auth_failures_total')).toHaveLength(Object.keys(AuthFailure).length);
    expect(valueOf(text, 'pairwise_bus_events_published_total', { type: 'inbox' })).toBe(1);
    expect(valueOf(text, 'pairwise_bus_events_published_total', { type: 'revoke' })).toBe(0);
    expect(valueOf(text, 'pairwise_bus_events_published_total', { type: 'gap' })).toBeUndefined();
    expect(valueOf(text, 'pairwise_bus_events_received_total', { type: 'inbox' })).toBe(1);
    expect(valueOf(text, 'pairwise_bus_events_received_total', { type: 'gap' })).toBe(1);
  });

  it('counts refused requests by error code, listing only codes that occurred', async () => {
    const metrics = new Metrics({ node: 'n1', processMetrics: false });
    expect(valueOf(await metrics.scrape(), 'pairwise_requests_refused_total', { code: 'RATE_LIMITED' })).toBeUndefined();
    metrics.refused('RATE_LIMITED');
    metrics.refused('RATE_LIMITED');
    metrics.refused('INBOX_FULL');
    const text = await metrics.scrape();
    expect(valueOf(text, 'pairwise_requests_refused_total', { code: 'RATE_LIMITED' })).toBe(2);
    expect(valueOf(text, 'pairwise_requests_refused_total', { code: 'INBOX_FULL' })).toBe(1);
    expect(samples(text).filter((s) => s.name === 'pairwise_requests_refused_total')).toHaveLength(2);
  });

  it('records commits as histograms of sends per commit and seconds per commit', async () => {
    const metrics = new Metrics({ node: 'n1', processMetrics: false });
    metrics.committed(1, 0.0004);
    metrics.committed(40, 0.003);
    const text = await metrics.scrape();
    expect(valueOf(text, 'pairwise_store_commit_batch_size_count')).toBe(2);
    expect(valueOf(text, 'pairwise_store_commit_batch_size_sum')).toBe(41);
    expect(valueOf(text, 'pairwise_store_commit_batch_size_bucket', { le: '1' })).toBe(1);
    expect(valueOf(text, 'pairwise_store_commit_batch_size_bucket', { le: '32' })).toBe(1);
    expect(valueOf(text, 'pairwise_store_commit_batch_size_bucket', { le: '64' })).toBe(2);
    expect(valueOf(text, 'pairwise_store_commit_duration_seconds_count')).toBe(2);
    expect(valueOf(text, 'pairwise_store_commit_duration_seconds_bucket', { le: '0.0005' })).toBe(1);
    expect(valueOf(text, 'pairwise_store_commit_duration_seconds_bucket', { le: '0.005' })).toBe(2);
  });

  it('reads the gauges from their sources at scrape time; an inbox depth the store cannot give is NaN', async () => {
    const metrics = new Metrics({ node: 'n1', processMetrics: false });
    let depth = 7;
    let failing = false;
    metrics.watch(
      sources({
        inboxDepth: () => (failing ? Promise.reject(new Error('database is down')) : Promise.resolve(depth)),
        openConnections: () => 3,
        authenticatedDevices: () => 2,
      }),
    );
    let text = await metrics.scrape();
    expect(valueOf(text, 'pairwise_inbox_depth')).toBe(7);
    expect(valueOf(text, 'pairwise_open_connections')).toBe(3);
    expect(valueOf(text, 'pairwise_authenticated_devices')).toBe(2);
    depth = 2;
    expect(valueOf(await metrics.scrape(), 'pairwise_inbox_depth')).toBe(2);
    failing = true;
    text = await metrics.scrape();
    expect(valueOf(text, 'pairwise_inbox_depth')).toBeNaN();
    // The scrape itself still succeeds, with everything else in it.
    expect(valueOf(text, 'pairwise_open_connections')).toBe(3);
  });

  it('labels every series, process metrics included, with the node, and explains every metric', async () => {
    const metrics = new Metrics({ node: 'eu-1' });
    metrics.watch(sources());
    metrics.refused('INTERNAL');
    metrics.committed(1, 0.001);
    const text = await metrics.scrape();
    const all = samples(text);
    expect(all.some((s) => s.name.startsWith('process_'))).toBe(true);
    expect(all.some((s) => s.name.startsWith('nodejs_'))).toBe(true);
    for (const sample of all) expect(sample.labels.node, sample.name).toBe('eu-1');
    const names = new Set(all.map((s) => s.name.replace(/_(bucket|sum|count)$/, '')).filter((name) => name.startsWith('pairwise_')));
    expect(names.size).toBe(12);
    for (const name of names) expect(text).toMatch(new RegExp(`^# HELP ${name} \\S.{20,}$`, 'm'));
    expect(metrics.contentType).toMatch(/^text\/plain/);
  });

  it('keeps each server’s metrics apart: two in one process neither clash nor share counts', async () => {
    const one = new Metrics({ node: 'a', processMetrics: false });
    const two = new Metrics({ node: 'b', processMetrics: false });
    one.sendAccepted();
    expect(valueOf(await one.scrape(), 'pairwise_sends_accepted_total')).toBe(1);
    expect(valueOf(await two.scrape(), 'pairwise_sends_accepted_total')).toBe(0);
  });
});
