/**
 * Acknowledgements, written in batches (SPEC INBOX-4). An acknowledged row must leave the inbox,
 * but not before the device hears anything: a lost acknowledgement only delivers the row again,
 * which the client already drops as seen (SPEC SEEN-1). So the acknowledgements of a short while,
 * from every device on this node, are deleted in one transaction and one commit, instead of one
 * commit each. The pump does not wait for them: it reads after the last row it pushed.
 * @module
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Store } from './store/store.js';

/** How long an acknowledgement may wait for others to be written with it. */
export const ACK_WRITE_DELAY_MS = 10;
/** Seqs that make a batch go at once. */
const ACK_WRITE_BATCH = 5000;

export class AckWriter {
  private pending = new Map<string, number[]>();
  private count = 0;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Pick<Store, 'ackInboxMany'>,
    private readonly log: Pick<FastifyBaseLogger, 'error'>,
  ) {}

  /** Deletes these rows of the device soon. */
  add(deviceId: string, seqs: readonly number[]): void {
    if (seqs.length === 0) return;
    const list = this.pending.get(deviceId);
    if (list === undefined) this.pending.set(deviceId, [...seqs]);
    else list.push(...seqs);
    this.count += seqs.length;
    if (this.count >= ACK_WRITE_BATCH) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), ACK_WRITE_DELAY_MS);
  }

  /** Writes what waits now; resolves when every acknowledgement added so far is written. */
  flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const acks = [...this.pending].map(([deviceId, seqs]) => ({ deviceId, seqs }));
    this.pending = new Map();
    this.count = 0;
    // One batch at a time, in order.
    this.writing = this.writing.then(async () => {
      if (acks.length === 0) return;
      try {
        await this.store.ackInboxMany(acks);
      } catch (error) {
        // The rows stay and are delivered again: that is all a lost acknowledgement costs.
        this.log.error({ err: error instanceof Error ? error.message : String(error) }, 'writing acknowledgements failed');
      }
    });
    return this.writing;
  }
}
