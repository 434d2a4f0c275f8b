/**
 * The Bus the configuration asks for: NATS when NATS_URL is set, in-process otherwise.
 * @module
 */
import { hostname } from 'node:os';
import type { Config } from '../config.js';
import type { Bus } from './bus.js';
import { InProcessBus } from './in-process-bus.js';
import { withoutCredentials } from './nats-address.js';
import { NatsBus, type BusLogger } from './nats-bus.js';

/** Opens the Bus; a broker that cannot be reached at start fails with a message without credentials. */
export async function openBus(config: Config, log: BusLogger): Promise<Bus> {
  if (config.natsUrl === null) return new InProcessBus();
  try {
    return await NatsBus.connect({ url: config.natsUrl, subject: config.natsSubject, name: `pairwise ${hostname()} ${process.pid}`, log });
  } catch (error) {
    throw new Error(`could not reach NATS at ${withoutCredentials(config.natsUrl)}: ${String(error)}`, { cause: error });
  }
}
