/**
 * The lock on SQLite's one connection, shared by Kysely (its driver holds it for a query, or for a
 * whole transaction) and the statements the store runs directly (sqlite-send-path.ts). Kysely's
 * transactions await between statements; a statement run directly in such a gap would join that
 * transaction, and be rolled back with it. Direct statements are synchronous, so when the lock is
 * free they run at once, without a turn of the event loop, and nothing can come between.
 * @module
 */
export class ConnectionLock {
  private held = false;
  private readonly waiting: (() => void)[] = [];

  /** Resolves once the lock is the caller's; `release` hands it on. */
  acquire(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Hands the lock to the next waiter, in the order they asked, or frees it. */
  release(): void {
    const next = this.waiting.shift();
    if (next === undefined) this.held = false;
    else next();
  }

  /**
   * Runs synchronous `work` on the connection: at once if the lock is free, else once it is the
   * caller's. A throw of `work` rejects the promise.
   */
  async run<T>(work: () => T): Promise<T> {
    if (!this.held) return work();
    await this.acquire();
    try {
      return work();
    } finally {
      this.release();
    }
  }
}
