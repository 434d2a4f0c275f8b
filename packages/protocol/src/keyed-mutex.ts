/**
 * One task at a time per key, in this process, for read-modify-write sequences that must not
 * interleave. The server's two-step PIN check reads the failure count, verifies, then writes the
 * new count (between nodes, the store's compare-and-set does the same job); the SDK changes one
 * contact, one peer device's sessions or the prekey table one step after another.
 * @module
 */

/** Runs tasks one after another per key; different keys run side by side. */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `task` once every earlier task for `key` has settled; resolves or rejects as it does. */
  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => done);
    this.tails.set(key, tail);
    try {
      await previous;
      return await task();
    } finally {
      release();
      // The last one out forgets the key, so that the map does not grow with every account seen.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Keys with a task running or waiting (for tests). */
  get size(): number {
    return this.tails.size;
  }
}
