/**
 * Bounded expensive work (SPEC LIMIT-7). Argon2id hashes of two-step PINs each take 19 MiB and tens
 * of milliseconds on the thread pool that WebCrypto also uses: hundreds at once would stall every
 * device's sign-in. So at most `concurrency` run at a time, at most `queue` wait, and one key (an
 * account) has at most `perKey` running or waiting; anything past that is refused at once with
 * SERVER_BUSY and a time to try again, rather than queued without end.
 * @module
 */
import { ProtocolError } from '@pairwise/protocol/errors';

/** The bounds and the clock. */
export interface WorkQueueOptions {
  readonly concurrency: number;
  readonly queue: number;
  readonly perKey: number;
  /** How long a refused caller is told to wait, ms. */
  readonly retryAfterMs: number;
  readonly now: () => number;
}

export class WorkQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly perKey = new Map<string, number>();

  constructor(private readonly options: WorkQueueOptions) {}

  /** Runs `work` for `key` within the bounds; throws SERVER_BUSY (with retryAt) past them. */
  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const held = this.perKey.get(key) ?? 0;
    if (held >= this.options.perKey || (this.running >= this.options.concurrency && this.waiting.length >= this.options.queue)) {
      throw new ProtocolError('SERVER_BUSY', undefined, { retryAt: this.options.now() + this.options.retryAfterMs });
    }
    this.perKey.set(key, held + 1);
    try {
      if (this.running >= this.options.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
      else this.running++;
      try {
        return await work();
      } finally {
        // The slot passes straight to the next waiter, so `running` never dips below a full pool.
        const next = this.waiting.shift();
        if (next !== undefined) next();
        else this.running--;
      }
    } finally {
      const left = (this.perKey.get(key) ?? 1) - 1;
      if (left <= 0) this.perKey.delete(key);
      else this.perKey.set(key, left);
    }
  }
}
