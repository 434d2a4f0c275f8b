import type { Bus, BusEvent, BusGap } from './bus.js';

/** The single-node Bus: events go straight to this process's handlers. */
export class InProcessBus implements Bus {
  readonly kind = 'in-process';
  private readonly handlers = new Set<(event: BusEvent | BusGap) => void>();

  publish(event: BusEvent): Promise<void> {
    // Delivered on a later tick so that publishers never run subscriber code in their own stack
    // (the same ordering a network bus gives).
    queueMicrotask(() => {
      for (const handler of this.handlers) handler(event);
    });
    return Promise.resolve();
  }

  subscribe(handler: (event: BusEvent | BusGap) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Always: there is no connection to lose. */
  isConnected(): boolean {
    return true;
  }

  close(): Promise<void> {
    this.handlers.clear();
    return Promise.resolve();
  }
}
