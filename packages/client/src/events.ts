/**
 * A small typed event emitter: `on` returns the function that removes the listener.
 * A listener that throws does not stop the others.
 * @module
 */
export class Emitter<Events extends Record<string, unknown>> {
  private readonly listeners = new Map<keyof Events, Set<(value: never) => void>>();
  // Listeners are stored with their payload type erased (`never` accepts every listener); `emit`
  // passes each the payload its event name promises.

  /** Calls `listener` for every `event` until the returned function is called. */
  on<K extends keyof Events>(event: K, listener: (value: Events[K]) => void): () => void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(listener);
    this.listeners.set(event, set);
    return () => set.delete(listener);
  }

  /** Resolves with the next `event` (for tests and one-shot flows). */
  once<K extends keyof Events>(event: K): Promise<Events[K]> {
    return new Promise((resolve) => {
      const off = this.on(event, (value) => {
        off();
        resolve(value);
      });
    });
  }

  /** Calls every listener of `event` with `value`. */
  protected emit<K extends keyof Events>(event: K, value: Events[K]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as (value: Events[K]) => void)(value);
      } catch {
        // A listener's failure is the listener's business; the SDK goes on.
      }
    }
  }
}
