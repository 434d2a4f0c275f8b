#!/usr/bin/env node
/**
 * `pairwise-server`: reads the configuration, opens the store, serves until SIGINT/SIGTERM.
 * @module
 */
import { createServer } from './app.js';
import { ConfigError, parseConfig } from './config.js';
import { descriptorWarning, openFileLimit } from './descriptor-limit.js';
import { listenForMetrics } from './metrics-listener.js';
import { pino } from 'pino';
import { openStore } from './store/open-store.js';
import { openBus } from './bus/open-bus.js';

async function main(): Promise<void> {
  let config;
  try {
    config = parseConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`pairwise-server: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const logger = pino({ level: config.logLevel });
  const descriptors = descriptorWarning(openFileLimit(), config.limits.pendingConnections);
  if (descriptors !== null) logger.warn(descriptors);
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
  let bus;
  try {
    bus = await openBus(config, logger);
  } catch (error) {
    logger.fatal({ err: String(error) }, 'the bus could not be opened');
    await store.close();
    process.exit(1);
  }
  const server = await createServer({ config, logger, store, bus });
  // Before the public port, so that a node that says it serves can also be scraped (SPEC OPS-4).
  const metricsApp = await listenForMetrics(server.context);
  const address = await server.app.listen({ host: config.host, port: config.port });
  server.app.log.info(
    { address, publicOrigin: config.publicOrigin, store: store.kind, bus: bus.kind },
    `Pairwise is serving at ${config.publicOrigin}`,
  );
  const shutdown = (): void => {
    Promise.resolve(metricsApp?.close())
      .then(() => server.close())
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

await main();
