/**
 * Checkpoints of the SQLite write-ahead log, on a worker thread. By default SQLite checkpoints in
 * the commit that takes the log past 1,000 pages: that commit then copies the pages into the
 * database file and syncs it, on the event loop, holding every socket for 10-20 ms about once a
 * second under load (docs/performance.md). Here the store's connection never checkpoints
 * (`wal_autocheckpoint = 0`); a second connection on a worker does, PASSIVE, which never waits for
 * nor blocks the writer. Durability does not change: a commit is on disk once the log is synced.
 * @module
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the worker checkpoints. */
export const CHECKPOINT_INTERVAL_MS = 250;
/**
 * Log frames (pages) past which the worker checkpoints with RESTART as well. The writer starts the
 * log again from its beginning only if, as it begins a transaction, a checkpoint has caught up with
 * every frame; under steady writes, each PASSIVE checkpoint ends with the writer's newest frames
 * still ahead of it, and the log grew by hundreds of MiB in seconds. RESTART waits for a moment
 * without a writer (the event loop may wait for it as long as that checkpoint takes) and has the
 * next transaction start the log anew.
 */
export const RESTART_AFTER_FRAMES = 8192;

/** What the last checkpoint reported: frames in the log, and how many of them are in the database file. */
export interface CheckpointResult {
  readonly logFrames: number;
  readonly checkpointedFrames: number;
}

// The worker's code, as CommonJS evaluated on the worker (it runs from source and from dist alike).
// better-sqlite3 is required by the path the store's own copy resolves to.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Sqlite = require(workerData.sqliteModule);
const database = new Sqlite(workerData.file, { fileMustExist: true });
database.pragma('busy_timeout = 1000');
const checkpoint = () => {
  try {
    let [row] = database.pragma('wal_checkpoint(PASSIVE)');
    if (row.log > workerData.restartAfterFrames) [row] = database.pragma('wal_checkpoint(RESTART)');
    parentPort.postMessage({ logFrames: row.log, checkpointedFrames: row.checkpointed });
  } catch (error) {
    parentPort.postMessage({ error: error instanceof Error ? error.message : String(error) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  database.close();
  parentPort.close();
});
`;

export class WalCheckpointer {
  private readonly worker: Worker;
  private last: CheckpointResult | null = null;
  private readonly stopped: Promise<void>;

  private stopping = false;

  /**
   * Starts checkpointing `file`, a SQLite database in WAL mode whose connection has
   * `wal_autocheckpoint = 0`. `onGone` is called if the worker ends without `stop`: the connection
   * must then checkpoint for itself again, or the log would grow without end.
   */
  constructor(file: string, handlers: { readonly onError: (message: string) => void; readonly onGone: () => void }) {
    const { onError, onGone } = handlers;
    const sqliteModule = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, sqliteModule, intervalMs: CHECKPOINT_INTERVAL_MS, restartAfterFrames: RESTART_AFTER_FRAMES } });
    // The process does not stay up for the checkpoints alone.
    this.worker.unref();
    this.worker.on('message', (message: CheckpointResult | { error: string }) => {
      if ('error' in message) onError(message.error);
      else this.last = message;
    });
    this.worker.on('error', (error) => onError(error.message));
    this.stopped = new Promise((resolve) =>
      this.worker.once('exit', () => {
        if (!this.stopping) onGone();
        resolve();
      }),
    );
  }

  /** The last checkpoint's result, or null before the first. */
  get lastCheckpoint(): CheckpointResult | null {
    return this.last;
  }

  /** Checkpoints once more and stops the worker. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.worker.postMessage('stop');
    await this.stopped;
  }
}
