/**
 * The three statements every delivered message goes through (send, read, acknowledge), which each
 * database runs its own way, outside Kysely: SQLite with prepared statements and group commit
 * (sqlite-send-path.ts), PostgreSQL with named statements and fewer round trips
 * (postgres-send-path.ts). The rest of the Store is KyselyStore's, on both.
 * @module
 */
import type { CommitObserver, EnqueueInput, EnqueueResult, InboxRow } from './store.js';

export interface MessagePath {
  enqueue(input: EnqueueInput): Promise<EnqueueResult>;
  readInbox(deviceId: string, afterSeq: number, limit: number): Promise<InboxRow[]>;
  ackInboxMany(acks: readonly { readonly deviceId: string; readonly seqs: readonly number[] }[]): Promise<number>;
  observeCommits(observer: CommitObserver | null): void;
}
