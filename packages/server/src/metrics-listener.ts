/**
 * The operator's own listener (SPEC OPS-4): /metrics, /healthz and /readyz on METRICS_HOST and
 * METRICS_PORT, apart from the public port, so that the metrics (how many devices, how busy,
 * which errors) are never served to the internet whatever the proxy in front forwards.
 * @module
 */
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { ServerContext } from './context.js';
import { registerHealthRoutes } from './health.js';

/** Builds the listener without listening; main.ts listens when METRICS_PORT is set. */
export async function createMetricsApp(ctx: Pick<ServerContext, 'metrics' | 'store' | 'bus' | 'log'>): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log,
    // A scrape every few seconds is no news; failures are logged as in the public app.
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.get('/metrics', async (_request, reply) => {
    void reply.type(ctx.metrics.contentType);
    return ctx.metrics.scrape();
  });
  registerHealthRoutes(app, ctx);
  await app.ready();
  return app;
}

/**
 * Starts the listener on METRICS_HOST:METRICS_PORT when METRICS_PORT is set; `null` when it is
 * not. The caller closes it on shutdown.
 */
export async function listenForMetrics(ctx: Pick<ServerContext, 'config' | 'metrics' | 'store' | 'bus' | 'log'>): Promise<FastifyInstance | null> {
  const { metricsPort, metricsHost, nodeName } = ctx.config;
  if (metricsPort === null) return null;
  const app = await createMetricsApp(ctx);
  // Logged as metricsAddress, not address: tooling reads "address" as the public one.
  const metricsAddress = await app.listen({ host: metricsHost, port: metricsPort });
  ctx.log.info({ metricsAddress, node: nodeName }, 'metrics and probes at /metrics, /healthz, /readyz');
  return app;
}
