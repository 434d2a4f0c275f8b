/**
 * The message path on PostgreSQL (send, read, acknowledge) as a few named statements on the `pg`
 * pool, without Kysely. Every delivered message goes through these three; through Kysely a send
 * took nine round trips, each statement parsed and planned anew by the server and built and
 * compiled anew here (docs/performance.md). Named statements are parsed and planned once per
 * connection, and a send is now five round trips (four without a quota): BEGIN, the parties, the
 * usage, the insert, COMMIT. The decisions are enqueue-rules.ts's, shared with SQLite, and the
 * Store contract suite runs on this path. Named statements need a direct connection, or a pooler
 * that keeps them (PgBouncer in transaction mode only with max_prepared_statements set).
 *
 * Locks (kysely-store.ts explains why each is needed, and why they cannot deadlock): the two
 * accounts FOR SHARE, their devices FOR KEY SHARE, then the inbox-writer advisory locks of the
 * devices written to, all in the parties statement. PostgreSQL runs the branches of a UNION ALL
 * one after the other and a data-modifying CTE when it is first read, so they come in that order;
 * the absence of deadlocks does not depend on it.
 * @module
 */
import type { Selectable } from 'kysely';
import type pg from 'pg';
import type { InboxTable } from './database.js';
import { fullInboxes, judgeSend, type InboxUsageRow, type SendAccountRow, type SendDeviceRow } from './enqueue-rules.js';
import { InboxKind, int, toInboxRow } from './rows.js';
import type { CommitObserver, EnqueueInput, EnqueueResult, InboxRow } from './store.js';

/** Seed of the inbox-writer lock keys, so that they stay apart from other users of advisory locks. */
export const INBOX_LOCK_SEED = 0x70616972; // "pair"


/**
 * Records the send (nothing comes back for a retry), then locks and reads both accounts and their
 * devices, then takes the inbox-writer locks: only those of devices of the two accounts, and none
 * for a retry, so that a send that will be refused holds up no stranger's inbox. $1 sender device,
 * $2 client message id, $3 now, $4 expires at, $5 the account ids, $6 the seed, $7 the devices
 * written to.
 */
const PARTIES_SQL = `
with recorded as (
  insert into sent_messages (sender_device_id, client_message_id, created_at, expires_at) values ($1, $2, $3, $4)
  on conflict (sender_device_id, client_message_id) do nothing returning 1
)
select 'recorded' as part, null::text as account_id, null::bigint as list_expires_at, null::text as device_id, null::text as kind, null::bytea as attestation from recorded
union all
select 'account', account_id, list_expires_at, null, null, null
  from (select account_id, list_expires_at from accounts where account_id = any($5::text[]) order by account_id for share) as a
union all
select 'device', account_id, null, device_id, kind, attestation
  from (select account_id, device_id, kind, attestation from devices where account_id = any($5::text[]) order by device_id for key share) as d
union all
select 'locked', null, null, null, null, null
  from (select pg_advisory_xact_lock(k) from (
    select distinct hashtextextended(id, $6) as k from unnest($7::text[]) as id
    where exists (select 1 from recorded) and exists (select 1 from devices where devices.device_id = id and devices.account_id = any($5::text[]))
    order by k) as keys) as l`;

/** One row of PARTIES_SQL. */
interface PartyRow {
  readonly part: 'recorded' | 'account' | 'device' | 'locked';
  readonly account_id: string | null;
  readonly list_expires_at: string | null;
  readonly device_id: string | null;
  readonly kind: string | null;
  readonly attestation: Uint8Array | null;
}

/**
 * The quota usage of the devices in $1, after the locks: a statement of its own, because a
 * statement sees what had committed when it began, and a writer that held a lock we waited for
 * committed after the parties statement began. $2 sender account, $3 recipient account.
 */
const USAGE_SQL = `
select device_id, count(*) as messages, sum(content_bytes) as bytes,
  sum(case when sender_account_id = $2 then 1 else 0 end) as sender_messages,
  sum(case when sender_account_id = $2 then content_bytes else 0 end) as sender_bytes,
  sum(case when sender_account_id = $3 then 1 else 0 end) as recipient_messages,
  sum(case when sender_account_id = $3 then content_bytes else 0 end) as recipient_bytes
from inbox where device_id = any($1::text[]) and sender_account_id is not null group by device_id`;

/**
 * Stores the envelopes ($1 device ids, $2 contents) and, when $8 and $9 differ, records the two
 * accounts as contacts of each other (sorted, so that two sends insert the pair in one order).
 * Returns each row's seq with the newest seq its device had before (StoredSeq.previousSeq): the
 * statement sees what had committed when it began, which, under the inbox locks taken before,
 * is every earlier row of those devices, and not its own rows.
 */
const INSERT_SQL = `
with contacts_added as (
  insert into contacts (account_id, peer_account_id)
  select * from (values ($8::text, $9::text), ($9::text, $8::text)) as pair where $8::text <> $9::text
  on conflict (account_id, peer_account_id) do nothing
), previous as (
  -- One max() per device, so that each is a single step down the inbox index.
  select id as device_id, (select max(seq) from inbox where inbox.device_id = id) as seq from unnest($1::text[]) as id
), inserted as (
  insert into inbox (device_id, server_time, expires_at, kind, sender_account_id, sender_device_id, client_message_id, content, content_bytes)
  select envelope.device_id, $3, $4, $5, $6, $7, $10, envelope.content, octet_length(envelope.content)
  from unnest($1::text[], $2::bytea[]) as envelope(device_id, content)
  returning seq, device_id
)
select inserted.seq, inserted.device_id, previous.seq as previous_seq from inserted left join previous on previous.device_id = inserted.device_id`;

const READ_SQL = 'select * from inbox where device_id = $1 and seq > $2 order by seq limit $3';

/** Deletes the acknowledged rows, $1 device ids and $2 seqs side by side, in one statement. */
const ACK_SQL = `
delete from inbox using unnest($1::text[], $2::bigint[]) as acked(device_id, seq)
where inbox.device_id = acked.device_id and inbox.seq = acked.seq`;

/** One device's acknowledged seqs. */
interface Acks {
  readonly deviceId: string;
  readonly seqs: readonly number[];
}

/** A Buffer over the same memory: pg sends a Buffer inside an array parameter as bytea. */
function buffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export class PostgresSendPath {
  private commitObserver: CommitObserver | null = null;

  constructor(private readonly pool: pg.Pool) {}

  observeCommits(observer: CommitObserver | null): void {
    this.commitObserver = observer;
  }

  async enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    const started = performance.now();
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('begin');
      const result = await this.store(client, input);
      // Only an accepted send is kept; a refusal also takes back its idempotency record.
      await client.query(result.status === 'accepted' ? 'commit' : 'rollback');
      this.commitObserver?.(1, (performance.now() - started) / 1000);
      return result;
    } catch (error) {
      // A connection that cannot even roll back is not handed to the next caller.
      await client.query('rollback').catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error('rollback failed');
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }

  private async store(client: pg.PoolClient, input: EnqueueInput): Promise<EnqueueResult> {
    const targets = input.envelopes.map((envelope) => envelope.deviceId);
    const accountIds = [...new Set([input.senderAccountId, input.recipientAccountId])];
    const { rows } = await client.query<PartyRow>({
      name: 'pairwise_send_parties',
      text: PARTIES_SQL,
      values: [input.senderDeviceId, buffer(input.clientMessageId), input.now, input.expiresAt, accountIds, INBOX_LOCK_SEED, [...new Set(targets)]],
    });
    if (!rows.some((row) => row.part === 'recorded')) return { status: 'duplicate' };
    const accounts: SendAccountRow[] = [];
    const devices: SendDeviceRow[] = [];
    for (const row of rows) {
      if (row.part === 'account') accounts.push({ account_id: row.account_id!, list_expires_at: row.list_expires_at! });
      if (row.part === 'device') devices.push({ device_id: row.device_id!, account_id: row.account_id!, kind: row.kind!, attestation: row.attestation });
    }
    const judgement = judgeSend(input, accounts, devices);
    if ('refused' in judgement) return judgement.refused;
    if (input.quota !== undefined && targets.length > 0) {
      const usage = await client.query<InboxUsageRow>({
        name: 'pairwise_send_usage',
        text: USAGE_SQL,
        values: [targets, input.senderAccountId, input.recipientAccountId],
      });
      const full = fullInboxes(input, input.quota, judgement.current, usage.rows);
      if (full.length > 0) return { status: 'inbox-full', deviceIds: full };
    }
    const [a, b] = [input.senderAccountId, input.recipientAccountId].sort();
    const inserted = await client.query<{ seq: string; device_id: string; previous_seq: string | null }>({
      name: 'pairwise_send_insert',
      text: INSERT_SQL,
      values: [
        targets,
        input.envelopes.map((envelope) => buffer(envelope.content)),
        input.now,
        input.expiresAt,
        InboxKind.Message,
        input.senderAccountId,
        input.senderDeviceId,
        a,
        b,
        buffer(input.clientMessageId),
      ],
    });
    const stored = new Map(inserted.rows.map((row) => [row.device_id, row]));
    const seqs = targets.map((deviceId) => {
      const row = stored.get(deviceId)!;
      return { deviceId, seq: int(row.seq), previousSeq: row.previous_seq === null ? null : int(row.previous_seq) };
    });
    return { status: 'accepted', seqs };
  }

  async readInbox(deviceId: string, afterSeq: number, limit: number): Promise<InboxRow[]> {
    if (limit <= 0) return [];
    const { rows } = await this.pool.query<Selectable<InboxTable>>({ name: 'pairwise_read_inbox', text: READ_SQL, values: [deviceId, afterSeq, limit] });
    return rows.map(toInboxRow);
  }

  /** One statement, so one commit, for every acknowledged row of the batch. */
  async ackInboxMany(acks: readonly Acks[]): Promise<number> {
    const deviceIds: string[] = [];
    const seqs: number[] = [];
    for (const { deviceId, seqs: acked } of acks) {
      for (const seq of new Set(acked)) {
        deviceIds.push(deviceId);
        seqs.push(seq);
      }
    }
    if (seqs.length === 0) return 0;
    const result = await this.pool.query({ name: 'pairwise_ack_inbox', text: ACK_SQL, values: [deviceIds, seqs] });
    return result.rowCount ?? 0;
  }
}
