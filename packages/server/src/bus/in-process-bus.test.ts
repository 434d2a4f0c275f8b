import { describeBusContract } from './bus.contract.js';
import { InProcessBus } from './in-process-bus.js';

// One node: the in-process Bus has no others to reach.
describeBusContract('in-process', () => {
  const bus = new InProcessBus();
  return Promise.resolve({ nodes: [bus], close: () => bus.close() });
});
