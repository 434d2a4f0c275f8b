import { describe, expect, it } from 'vitest';
import type { BusEvent, BusGap } from './bus/bus.js';
import { InProcessBus } from './bus/in-process-bus.js';
import { MeteredBus } from './metered-bus.js';
import { Metrics } from './metrics.js';

describe('[OPS-4] the metered Bus', () => {
  it('counts what is published and what its subscriber is handed, and passes everything on', async () => {
    const inner = new InProcessBus();
    const metrics = new Metrics({ node: 'n1', processMetrics: false });
    const bus = new MeteredBus(inner, metrics);
    const seen: (BusEvent | BusGap)[] = [];
    const unsubscribe = bus.subscribe((event) => seen.push(event));
    await bus.publish({ type: 'inbox', deviceIds: ['d1'] });
    await bus.publish({ type: 'revoke', deviceId: 'd2', reason: 'removed' });
    // Published on another node: this node only receives it.
    await inner.publish({ type: 'device-list', accountId: 'alice' });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(seen.map((event) => event.type)).toEqual(['inbox', 'revoke', 'device-list']);
    const text = await metrics.scrape();
    expect(text).toContain('pairwise_bus_events_published_total{type="inbox",node="n1"} 1');
    expect(text).toContain('pairwise_bus_events_published_total{type="device-list",node="n1"} 0');
    expect(text).toContain('pairwise_bus_events_received_total{type="device-list",node="n1"} 1');
    expect(text).toContain('pairwise_bus_events_received_total{type="revoke",node="n1"} 1');
    expect(bus.kind).toBe('in-process');
    expect(bus.isConnected()).toBe(true);
    unsubscribe();
    await bus.close();
  });
});
