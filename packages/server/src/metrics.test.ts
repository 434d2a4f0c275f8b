// The metrics' exposition (SPEC OPS-4): what each count means is documented in docs/operations.md,
// and here it is checked that the numbers bumped inline reach the scrape under those names.
import { describe, expect, it } from 'vitest';
import { AuthFailure, Metrics, type MetricSources } from './metrics.js';
import { findSampleValue, parseSamples } from './test-support/prometheus-text.js';

const sources = (overrides: Partial<MetricSources> = {}): MetricSources => ({
  inboxDepth: () => Promise.resolve(0),
  openConnections: () => 0,
  authenticatedDevices: () => 0,
  ...overrides,
});

describe('[OPS-4] metrics', () => {
  it('counts bumped inline appear at the next scrape, under their names', async () => {
    const metrics = new Metrics({ node: 'n1', processMetrics: false });
    expect(findSampleValue(await metrics.scrape(), 'pairwise_sends_accepted_total')).toBe(0);
    for (let i = 0; i < 3; i++) metrics.sendAccepted();
    for (let i = 0; i < 5; i++) metrics.deliveryPushed();
    metrics.acknowledged(4);
    metrics.acknowledged(1);
    const text = await metrics.scrape();
    expect(findSampleValue(text, 'pairwise_sends_accepted_total')).toBe(3);
    expect(findSampleValue(text, 'pairwise_deliveries_pushed_total')).toBe(5);
    expect(findSampleValue(text, 'pairwise_acks_received_total')).toBe(5);
    // A scrape reads the counts; it does not move them.
    expect(findSampleValue(await metrics.scrape(), 'pairwise_sends_accepted_total')).toBe(3);
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
    expect(findSampleValue(text, 'pairwise_auth_failures_total', { reason: 'signature' })).toBe(2);
    expect(findSampleValue(text, 'pairwise_auth_failures_total', { reason: 'clock-skew' })).toBe(1);
    // Series that exist before their first event, so that rate() over them starts at once.
    expect(findSampleValue(text, 'pairwise_auth_failures_total', { reason: 'unknown-device' })).toBe(0);
    expect(parseSamples(text).filter((s) => s.name === 'pairwise_auth_failures_total')).toHaveLength(Object.keys(AuthFailure).length);
    expect(findSampleValue(text, 'pairwise_bus_events_published_total', { type: 'inbox' })).toBe(1);
    expect(findSampleValue(text, 'pairwise_bus_events_published_total', { type: 'revoke' })).toBe(0);
    expect(findSampleValue(text, 'pairwise_bus_events_published_total', { type: 'gap' })).toBeUndefined();
    expect(findSampleValue(text, 'pairwise_bus_events_received_total', { type: 'inbox' })).toBe(1);
    expect(findSampleValue(text, 'pairwise_bus_events_received_total', { type: 'gap' })).toBe(1);
  });

  it('counts refused requests by error code, listing only codes that occurred', async () => {
    const metrics = new Metrics({ node: 'n1', processMetrics: false });
    expect(findSampleValue(await metrics.scrape(), 'pairwise_requests_refused_total', { code: 'RATE_LIMITED' })).toBeUndefined();
    metrics.refused('RATE_LIMITED');
    metrics.refused('RATE_LIMITED');
    metrics.refused('INBOX_FULL');
    const text = await metrics.scrape();
    expect(findSampleValue(text, 'pairwise_requests_refused_total', { code: 'RATE_LIMITED' })).toBe(2);
    expect(findSampleValue(text, 'pairwise_requests_refused_total', { code: 'INBOX_FULL' })).toBe(1);
    expect(parseSamples(text).filter((s) => s.name === 'pairwise_requests_refused_total')).toHaveLength(2);
  });

  it('records commits as histograms of sends per commit and seconds per commit', async () => {
    const metrics = new Metrics({ node: 'n1', processMetrics: false });
    metrics.committed(1, 0.0004);
    metrics.committed(40, 0.003);
    const text = await metrics.scrape();
    expect(findSampleValue(text, 'pairwise_store_commit_batch_size_count')).toBe(2);
    expect(findSampleValue(text, 'pairwise_store_commit_batch_size_sum')).toBe(41);
    expect(findSampleValue(text, 'pairwise_store_commit_batch_size_bucket', { le: '1' })).toBe(1);
    expect(findSampleValue(text, 'pairwise_store_commit_batch_size_bucket', { le: '32' })).toBe(1);
    expect(findSampleValue(text, 'pairwise_store_commit_batch_size_bucket', { le: '64' })).toBe(2);
    expect(findSampleValue(text, 'pairwise_store_commit_duration_seconds_count')).toBe(2);
    expect(findSampleValue(text, 'pairwise_store_commit_duration_seconds_bucket', { le: '0.0005' })).toBe(1);
    expect(findSampleValue(text, 'pairwise_store_commit_duration_seconds_bucket', { le: '0.005' })).toBe(2);
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
    expect(findSampleValue(text, 'pairwise_inbox_depth')).toBe(7);
    expect(findSampleValue(text, 'pairwise_open_connections')).toBe(3);
    expect(findSampleValue(text, 'pairwise_authenticated_devices')).toBe(2);
    depth = 2;
    expect(findSampleValue(await metrics.scrape(), 'pairwise_inbox_depth')).toBe(2);
    failing = true;
    text = await metrics.scrape();
    expect(findSampleValue(text, 'pairwise_inbox_depth')).toBeNaN();
    // The scrape itself still succeeds, with everything else in it.
    expect(findSampleValue(text, 'pairwise_open_connections')).toBe(3);
  });

  it('labels every series, process metrics included, with the node, and explains every metric', async () => {
    const metrics = new Metrics({ node: 'eu-1' });
    metrics.watch(sources());
    metrics.refused('INTERNAL');
    metrics.committed(1, 0.001);
    const text = await metrics.scrape();
    const all = parseSamples(text);
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
    expect(findSampleValue(await one.scrape(), 'pairwise_sends_accepted_total')).toBe(1);
    expect(findSampleValue(await two.scrape(), 'pairwise_sends_accepted_total')).toBe(0);
  });
});
