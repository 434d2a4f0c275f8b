#!/usr/bin/env node
/**
 * `pairwise-server`: reads the configuration, opens the store, serves until SIGINT/SIGTERM.
 * @module
 */
import { createServer } from './app.js';
import { ConfigError, parseConfig } from './config.js';
import { descriptorWarning, openFileLimit } from './descriptor-limit.js';
import { pino } from 'pino';
import { openStore } from './store/open-store.js';

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
  const server = await createServer({
    config,
    logger,
    store: await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger }),
  });
  const store = server.context.store;
  const address = await server.app.listen({ host: config.host, port: config.port });
  server.app.log.info(
    { address, publicOrigin: config.publicOrigin, store: store.kind },
    `Pairwise is serving at ${config.publicOrigin}`,
  );
  const shutdown = (): void => {
    server
      .close()
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

await main();
