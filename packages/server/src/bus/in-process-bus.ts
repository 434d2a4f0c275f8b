import type { Bus, BusEvent } from './bus.js';

/** The single-node Bus: events go straight to this process's handlers. */
export class InProcessBus implements Bus {
  private readonly handlers = new Set<(event: BusEvent) => void>();

  publish(event: BusEvent): Promise<void> {
    // Delivered on a later tick so that publishers never run subscriber code in their own stack
    // (the same ordering a network bus gives).
    queueMicrotask(() => {
      for (const handler of this.handlers) handler(event);
    });
    return Promise.resolve();
  }

  subscribe(handler: (event: BusEvent) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  close(): Promise<void> {
    this.handlers.clear();
    return Promise.resolve();
  }
}
