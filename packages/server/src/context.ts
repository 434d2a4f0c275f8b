import type { FastifyBaseLogger } from 'fastify';
import type { AckWriter } from './ack-writer.js';
import type { Bus } from './bus/bus.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { ServerGuards } from './guards.js';
import type { Metrics } from './metrics.js';
import type { Store } from './store/store.js';
import type { Hub } from './ws/hub.js';

/** What every handler can reach: one object, built once per server. */
export interface ServerContext {
  readonly config: Config;
  readonly store: Store;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly hub: Hub;
  readonly guards: ServerGuards;
  /** Acknowledged inbox rows, deleted in batches. */
  readonly acks: AckWriter;
  readonly log: FastifyBaseLogger;
  /** Counters bumped inline on the hot path, scraped at /metrics (SPEC OPS-4). */
  readonly metrics: Metrics;
}
