// The probes and the metrics listener (SPEC OPS-2, OPS-3, OPS-4), on a server built in-process
// with a real in-memory SQLite store, and a store or Bus made to fail.
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type PairwiseServer } from './app.js';
import type { Bus } from './bus/bus.js';
import { InProcessBus } from './bus/in-process-bus.js';
import { parseConfig } from './config.js';
import { createMetricsApp } from './metrics-listener.js';
import { Metrics } from './metrics.js';
import { openSqliteStore } from './store/open-sqlite-store.js';
import type { Store } from './store/store.js';

const running: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of running.splice(0)) await close();
});

interface Failures {
  /** The store's check throws, as when the database is unreachable. */
  readonly store?: boolean;
  /** The Bus has lost its broker. */
  readonly bus?: boolean;
}

/** A server and its metrics listener; `checks` counts the store checks made. */
async function start(failures: Failures = {}): Promise<{ server: PairwiseServer; metricsApp: FastifyInstance; checks: () => number }> {
  const inner = await openSqliteStore(':memory:');
  const store = Object.create(inner) as Store;
  let checks = 0;
  store.check = () => {
    checks++;
    return failures.store ? Promise.reject(new Error('connect ECONNREFUSED 10.0.0.7:5432 (user pairwise)')) : inner.check();
  };
  const bus = Object.create(new InProcessBus()) as Bus;
  bus.isConnected = () => !failures.bus;
  const config = { ...parseConfig({ LOG_LEVEL: 'silent' }), webRoot: null };
  const server = await createServer({ config, store, bus, sweepIntervalMs: 0, metrics: new Metrics({ node: 'test', processMetrics: false }) });
  const metricsApp = await createMetricsApp(server.context);
  running.push(async () => {
    await metricsApp.close();
    await server.close();
  });
  return { server, metricsApp, checks: () => checks };
}

describe('[OPS-2] /healthz', () => {
  it('answers 200 {ok:true} on the public app and on the metrics listener, whatever the store does', async () => {
    const { server, metricsApp } = await start({ store: true, bus: true });
    for (const app of [server.app, metricsApp]) {
      const response = await app.inject({ url: '/healthz' });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ ok: true });
    }
    // The older endpoint stays as it was.
    expect((await server.app.inject({ url: '/api/health' })).json()).toEqual({ ok: true });
  });
});

describe('[OPS-3] /readyz', () => {
  it('answers 200 when the store answers and the Bus is connected', async () => {
    const { server, metricsApp } = await start();
    for (const app of [server.app, metricsApp]) {
      const response = await app.inject({ url: '/readyz' });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ ok: true });
    }
  });

  it.each([
    [{ store: true }, ['store']],
    [{ bus: true }, ['bus']],
    [{ store: true, bus: true }, ['store', 'bus']],
  ] as const)('answers 503 naming what failed (%o), and nothing more', async (failures, failing) => {
    const { server, metricsApp } = await start(failures);
    for (const app of [server.app, metricsApp]) {
      const response = await app.inject({ url: '/readyz' });
      expect(response.statusCode).toBe(503);
      // Exactly this: no error message, address or user name from the failure.
      expect(response.body).toBe(JSON.stringify({ ok: false, failing }));
    }
  });

  it('checks the store at most once a second, however many ask', async () => {
    const { server, checks } = await start();
    const answers = await Promise.all(Array.from({ length: 20 }, () => server.app.inject({ url: '/readyz' })));
    expect(answers.every((response) => response.statusCode === 200)).toBe(true);
    expect(checks()).toBe(1);
  });
});

describe('[OPS-4] /metrics', () => {
  it('is served by the metrics listener, in the Prometheus text format, and not by the public app', async () => {
    const { server, metricsApp } = await start();
    const response = await metricsApp.inject({ url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.body).toContain('pairwise_inbox_depth{node="test"} 0');
    expect(response.body).toContain('pairwise_open_connections{node="test"} 0');
    expect((await server.app.inject({ url: '/metrics' })).statusCode).toBe(404);
  });
});
