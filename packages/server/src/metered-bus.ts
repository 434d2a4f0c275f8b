/**
 * A Bus that counts what passes through it, by event type, for the metrics (SPEC OPS-4). It wraps
 * whichever Bus the server was given, so that neither the Bus implementations nor the eleven
 * places that publish need to know about metrics.
 * @module
 */
import type { Bus, BusEvent, BusGap } from './bus/bus.js';
import type { Metrics } from './metrics.js';

/** `inner`, counting into `metrics` each event published and each handed to a subscriber. */
export class MeteredBus implements Bus {
  readonly kind: Bus['kind'];

  constructor(
    private readonly inner: Bus,
    private readonly metrics: Metrics,
  ) {
    this.kind = inner.kind;
  }

  publish(event: BusEvent): Promise<void> {
    this.metrics.busPublished(event.type);
    return this.inner.publish(event);
  }

  /** Counts each event once per handler: the server has one, its hub. */
  subscribe(handler: (event: BusEvent | BusGap) => void): () => void {
    return this.inner.subscribe((event) => {
      this.metrics.busReceived(event.type);
      handler(event);
    });
  }

  isConnected(): boolean {
    return this.inner.isConnected();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
