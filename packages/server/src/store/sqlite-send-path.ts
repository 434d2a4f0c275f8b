/**
 * The message path on SQLite (send, read, acknowledge) as statements prepared once and run
 * synchronously through better-sqlite3, with group commit. Every delivered message goes through
 * these three, so they skip Kysely: building, compiling and awaiting each query cost more than
 * SQLite's own work on them (docs/performance.md). The decisions are enqueue-rules.ts's, shared
 * with the PostgreSQL path (postgres-send-path.ts), and the Store contract suite runs on this path.
 *
 * Group commit: the sends that arrive while the event loop handles one batch of socket reads share
 * one transaction and one fsync, each under its own savepoint, so that a refusal (devices changed,
 * inbox full) or a failure rolls back that send alone. The acknowledgements written meanwhile
 * (ack-writer.ts) go in the same commit. Each caller hears its result only once the group has
 * committed.
 *
 * Kysely and this path share one connection. Kysely's transactions await between statements, and
 * a statement run then would join that transaction (and be rolled back with it), so everything here
 * runs under the connection's lock (connection-lock.ts), between Kysely's transactions, never inside one.
 * @module
 */
import type Sqlite from 'better-sqlite3';
import type { Selectable } from 'kysely';
import type { ConnectionLock } from './connection-lock.js';
import type { InboxTable } from './database.js';
import { fullInboxes, judgeSend, type InboxUsageRow, type SendAccountRow, type SendDeviceRow } from './enqueue-rules.js';
import { InboxKind, toInboxRow } from './rows.js';
import type { CommitObserver, EnqueueInput, EnqueueResult, InboxRow } from './store.js';

/** Most sends and acknowledgement batches one group commit takes: a bound on how long one commit holds the event loop. */
const GROUP_COMMIT_MAX = 256;

/** A send, or a batch of acknowledgements, waiting for the next group commit, with its caller's promise. */
type Waiting =
  | { readonly kind: 'send'; readonly input: EnqueueInput; readonly resolve: (result: EnqueueResult) => void; readonly reject: (error: unknown) => void }
  | { readonly kind: 'acks'; readonly acks: readonly Acks[]; readonly resolve: (deleted: number) => void; readonly reject: (error: unknown) => void };

/** One device's acknowledged seqs. */
interface Acks {
  readonly deviceId: string;
  readonly seqs: readonly number[];
}

/** Thrown inside a send's savepoint to roll it back and still answer the caller. */
class Refused extends Error {
  constructor(readonly result: EnqueueResult) {
    super('send refused');
  }
}

/** An account joined with one of its devices (device columns null for an account without any). */
interface PartyRow {
  readonly account_id: string;
  readonly list_expires_at: number;
  readonly device_id: string | null;
  readonly kind: string | null;
  readonly attestation: Uint8Array | null;
}

/** The accounts and the devices of a join of both. */
function parties(rows: readonly PartyRow[]): { accounts: SendAccountRow[]; devices: SendDeviceRow[] } {
  const accounts = new Map<string, SendAccountRow>();
  const devices: SendDeviceRow[] = [];
  for (const row of rows) {
    accounts.set(row.account_id, { account_id: row.account_id, list_expires_at: row.list_expires_at });
    if (row.device_id !== null && row.kind !== null) devices.push({ device_id: row.device_id, account_id: row.account_id, kind: row.kind, attestation: row.attestation });
  }
  return { accounts: [...accounts.values()], devices };
}

type Outcome = { readonly ok: true; readonly result: EnqueueResult | number } | { readonly ok: false; readonly error: unknown };

export class SqliteSendPath {
  private readonly waiting: Waiting[] = [];
  private grouping = false;
  private commitObserver: CommitObserver | null = null;

  private readonly recordSend: Sqlite.Statement;
  private readonly selectParties: Sqlite.Statement<[string, string], PartyRow>;
  private readonly selectUsage: Sqlite.Statement<[string, string, string, string, string], InboxUsageRow>;
  private readonly insertInbox: Sqlite.Statement<unknown[], { seq: number }>;
  private readonly selectLastSeq: Sqlite.Statement<[string], { seq: number | null }>;
  private readonly insertContacts: Sqlite.Statement<[string, string, string, string]>;
  private readonly selectInbox: Sqlite.Statement<[string, number, number], Selectable<InboxTable>>;
  private readonly deleteInboxRow: Sqlite.Statement<[string, number]>;
  /** One send under its own savepoint (better-sqlite3 nests a transaction as a savepoint). */
  private readonly sendInSavepoint: (input: EnqueueInput) => EnqueueResult;
  private readonly commitGroup: (batch: readonly Waiting[]) => Outcome[];
  private readonly acknowledgeInSavepoint: (acks: readonly Acks[]) => number;

  constructor(
    database: Sqlite.Database,
    private readonly lock: ConnectionLock,
  ) {
    this.recordSend = database.prepare(
      'insert into sent_messages (sender_device_id, client_message_id, created_at, expires_at) values (?, ?, ?, ?) on conflict (sender_device_id, client_message_id) do nothing',
    );
    // Both accounts with their devices in one statement. No order: SQLite has no row locks to take
    // in order, and the judgement does not depend on it.
    this.selectParties = database.prepare(
      `select accounts.account_id, accounts.list_expires_at, devices.device_id, devices.kind, devices.attestation
       from accounts left join devices on devices.account_id = accounts.account_id where accounts.account_id in (?, ?)`,
    );
    // The covering index inbox_device_id_seq_sender answers this without reading any content.
    this.selectUsage = database.prepare(
      `select device_id, count(*) as messages, sum(content_bytes) as bytes,
         sum(case when sender_account_id = ? then 1 else 0 end) as sender_messages,
         sum(case when sender_account_id = ? then content_bytes else 0 end) as sender_bytes,
         sum(case when sender_account_id = ? then 1 else 0 end) as recipient_messages,
         sum(case when sender_account_id = ? then content_bytes else 0 end) as recipient_bytes
       from inbox where device_id = ? and sender_account_id is not null group by device_id`,
    );
    this.insertInbox = database.prepare(
      `insert into inbox (device_id, server_time, expires_at, kind, sender_account_id, sender_device_id, client_message_id, content, content_bytes)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?) returning seq`,
    );
    // The newest row a send's row follows (StoredSeq.previousSeq): one step down the inbox index.
    this.selectLastSeq = database.prepare('select max(seq) as seq from inbox where device_id = ?');
    this.insertContacts = database.prepare(
      'insert into contacts (account_id, peer_account_id) values (?, ?), (?, ?) on conflict (account_id, peer_account_id) do nothing',
    );
    this.selectInbox = database.prepare('select * from inbox where device_id = ? and seq > ? order by seq limit ?');
    this.deleteInboxRow = database.prepare('delete from inbox where device_id = ? and seq = ?');
    this.sendInSavepoint = database.transaction((input: EnqueueInput) => this.store(input));
    this.commitGroup = database.transaction((batch: readonly Waiting[]) =>
      batch.map((item): Outcome => {
        const outcome = item.kind === 'send' ? this.attempt(item.input) : this.acknowledge(item.acks);
        // Some errors (disk full, I/O) make SQLite roll back the whole transaction: the rest of the
        // group would then run outside it, each statement committing alone while its caller is
        // told the group failed. Failing the group here stores nothing of it and tells everyone.
        if (!database.inTransaction) throw outcome.ok ? new Error('the group transaction was rolled back') : outcome.error;
        return outcome;
      }),
    );
    this.acknowledgeInSavepoint = database.transaction((acks: readonly Acks[]) => {
      let deleted = 0;
      for (const { deviceId, seqs } of acks) for (const seq of new Set(seqs)) deleted += this.deleteInboxRow.run(deviceId, seq).changes;
      return deleted;
    });
  }

  /** Counts each commit (how many sends it held, how long it took). */
  observeCommits(observer: CommitObserver | null): void {
    this.commitObserver = observer;
  }

  /** The Store's `enqueue`, answered once the group holding it has committed. */
  enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    return new Promise<EnqueueResult>((resolve, reject) => this.join({ kind: 'send', input, resolve, reject }));
  }

  /** The Store's `readInbox`. */
  readInbox(deviceId: string, afterSeq: number, limit: number): Promise<InboxRow[]> {
    if (limit <= 0) return Promise.resolve([]);
    return this.lock.run(() => this.selectInbox.all(deviceId, afterSeq, limit).map(toInboxRow));
  }

  /** The Store's `ackInboxMany`, in the next group commit: acknowledgements share the sends' fsync. */
  ackInboxMany(acks: readonly Acks[]): Promise<number> {
    const wanted = acks.filter((ack) => ack.seqs.length > 0);
    if (wanted.length === 0) return Promise.resolve(0);
    return new Promise<number>((resolve, reject) => this.join({ kind: 'acks', acks: wanted, resolve, reject }));
  }

  private join(item: Waiting): void {
    this.waiting.push(item);
    if (this.grouping) return;
    this.grouping = true;
    // After the frames already read have been handled: a group started at once would hold one send.
    setImmediate(() => void this.commitGroups());
  }

  /** One batch of acknowledgements of a group, all or nothing under its own savepoint. */
  private acknowledge(acks: readonly Acks[]): Outcome {
    try {
      return { ok: true, result: this.acknowledgeInSavepoint(acks) };
    } catch (error) {
      return { ok: false, error };
    }
  }

  private async commitGroups(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, GROUP_COMMIT_MAX);
        const started = performance.now();
        let outcomes: Outcome[];
        try {
          outcomes = await this.lock.run(() => this.commitGroup(batch));
        } catch (error) {
          // The commit itself failed: nothing of the group is stored.
          for (const item of batch) item.reject(error);
          continue;
        }
        const sends = batch.filter((item) => item.kind === 'send').length;
        if (sends > 0) this.commitObserver?.(sends, (performance.now() - started) / 1000);
        batch.forEach((item, i) => {
          const outcome = outcomes[i]!;
          if (!outcome.ok) item.reject(outcome.error);
          else if (item.kind === 'send') item.resolve(outcome.result as EnqueueResult);
          else item.resolve(outcome.result as number);
        });
      }
    } finally {
      this.grouping = false;
    }
  }

  /** One send of a group: its savepoint is rolled back if it is refused or fails. */
  private attempt(input: EnqueueInput): Outcome {
    try {
      return { ok: true, result: this.sendInSavepoint(input) };
    } catch (error) {
      return error instanceof Refused ? { ok: true, result: error.result } : { ok: false, error };
    }
  }

  /** The send's steps, in the order the PostgreSQL path takes them (postgres-send-path.ts). Throws Refused to roll back. */
  private store(input: EnqueueInput): EnqueueResult {
    // The idempotency record first: a retry of an accepted send is a duplicate even if the
    // device lists changed since.
    const recorded = this.recordSend.run(input.senderDeviceId, input.clientMessageId, input.now, input.expiresAt);
    if (recorded.changes === 0) return { status: 'duplicate' };
    // From here on, a refusal must roll back the record above (throw, not return).
    const { accounts, devices } = parties(this.selectParties.all(input.senderAccountId, input.recipientAccountId));
    const judgement = judgeSend(input, accounts, devices);
    if ('refused' in judgement) throw new Refused(judgement.refused);
    if (input.quota !== undefined) {
      const usage = input.envelopes.flatMap((envelope) => this.usageOf(input, envelope.deviceId));
      const full = fullInboxes(input, input.quota, judgement.current, usage);
      if (full.length > 0) throw new Refused({ status: 'inbox-full', deviceIds: full });
    }
    const seqs = input.envelopes.map((envelope) => {
      const previous = this.selectLastSeq.get(envelope.deviceId);
      const row = this.insertInbox.get(
        envelope.deviceId,
        input.now,
        input.expiresAt,
        InboxKind.Message,
        input.senderAccountId,
        input.senderDeviceId,
        input.clientMessageId,
        envelope.content,
        envelope.content.byteLength,
      );
      return { deviceId: envelope.deviceId, seq: Number(row!.seq), previousSeq: previous?.seq ?? null };
    });
    if (input.senderAccountId !== input.recipientAccountId) {
      const [a, b] = [input.senderAccountId, input.recipientAccountId].sort() as [string, string];
      this.insertContacts.run(a, b, b, a);
    }
    return { status: 'accepted', seqs };
  }

  private usageOf(input: EnqueueInput, deviceId: string): InboxUsageRow[] {
    const { senderAccountId: sender, recipientAccountId: recipient } = input;
    const row = this.selectUsage.get(sender, sender, recipient, recipient, deviceId);
    return row === undefined ? [] : [row];
  }
}
