/**
 * Schema migrations, kept in code so that a built server needs no migration files on disk. The
 * schema is portable between SQLite and PostgreSQL: bytes are blob/bytea, times are bigint
 * milliseconds, the inbox seq is the database's own auto-increment key.
 *
 * A migration, once released, never changes: a new change is a new entry in `MIGRATIONS`.
 * @module
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { DialectKind } from './database.js';
import type { StoreLogger } from './store-logger.js';

/** Kysely's own bookkeeping tables, prefixed so they cannot clash with another app's in a shared schema. */
const MIGRATION_TABLE = 'pairwise_migration';
const MIGRATION_LOCK_TABLE = 'pairwise_migration_lock';

function initialSchema(kind: DialectKind): Migration {
  const bytes = kind === DialectKind.Postgres ? 'bytea' : 'blob';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('accounts')
        .addColumn('account_id', 'text', (col) => col.primaryKey())
        .addColumn('identity_key', bytes, (col) => col.notNull())
        .addColumn('list_body', bytes, (col) => col.notNull())
        .addColumn('list_signature', bytes, (col) => col.notNull())
        .addColumn('list_version', 'bigint', (col) => col.notNull())
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .execute();

      await db.schema
        .createTable('devices')
        .addColumn('device_id', 'text', (col) => col.primaryKey())
        .addColumn('account_id', 'text', (col) => col.notNull().references('accounts.account_id').onDelete('cascade'))
        .addColumn('kind', 'text', (col) => col.notNull())
        .addColumn('signing_key', bytes, (col) => col.notNull())
        .addColumn('agreement_key', bytes, (col) => col.notNull())
        .addColumn('name', 'text', (col) => col.notNull())
        .addColumn('linked_at', 'bigint', (col) => col.notNull())
        .addColumn('last_active_at', 'bigint', (col) => col.notNull())
        .addCheckConstraint('devices_kind', sql`kind in ('primary', 'companion')`)
        .execute();
      await db.schema.createIndex('devices_account_id').on('devices').column('account_id').execute();

      // One row per device: a device's signed and ML-KEM prekeys are each replaced, never kept
      // side by side. Either may be missing until the device uploads it.
      await db.schema
        .createTable('signed_prekeys')
        .addColumn('device_id', 'text', (col) => col.primaryKey().references('devices.device_id').onDelete('cascade'))
        .addColumn('signed_id', 'bigint')
        .addColumn('signed_public_key', bytes)
        .addColumn('signed_signature', bytes)
        .addColumn('pq_id', 'bigint')
        .addColumn('pq_public_key', bytes)
        .addColumn('pq_signature', bytes)
        .execute();

      await db.schema
        .createTable('one_time_prekeys')
        .addColumn('device_id', 'text', (col) => col.notNull().references('devices.device_id').onDelete('cascade'))
        .addColumn('prekey_id', 'bigint', (col) => col.notNull())
        .addColumn('public_key', bytes, (col) => col.notNull())
        .addPrimaryKeyConstraint('one_time_prekeys_pk', ['device_id', 'prekey_id'])
        .execute();

      // No foreign key to devices: the companion is not a device until the link is approved.
      await db.schema
        .createTable('pending_links')
        .addColumn('token_hash', bytes, (col) => col.primaryKey())
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('expires_at', 'bigint', (col) => col.notNull())
        .addColumn('ip_address', 'text', (col) => col.notNull())
        .addColumn('user_agent', 'text', (col) => col.notNull())
        .addColumn('device_name', 'text', (col) => col.notNull())
        .addColumn('device_id', 'text', (col) => col.notNull())
        .addColumn('signing_key', bytes, (col) => col.notNull())
        .addColumn('agreement_key', bytes, (col) => col.notNull())
        .addColumn('pre_keys', 'text', (col) => col.notNull())
        .execute();
      await db.schema.createIndex('pending_links_expires_at').on('pending_links').column('expires_at').execute();

      // The seq is assigned by the database so that it increases in insertion order across all
      // nodes; AUTOINCREMENT on SQLite also guarantees a seq is never reused after a delete, so a
      // device's cursor (afterSeq) can never skip a new row.
      await db.schema
        .createTable('inbox')
        .$call((table) =>
          kind === DialectKind.Postgres
            ? table.addColumn('seq', 'bigserial', (col) => col.primaryKey())
            : table.addColumn('seq', 'integer', (col) => col.primaryKey().autoIncrement()),
        )
        .addColumn('device_id', 'text', (col) => col.notNull().references('devices.device_id').onDelete('cascade'))
        .addColumn('server_time', 'bigint', (col) => col.notNull())
        .addColumn('expires_at', 'bigint', (col) => col.notNull())
        .addColumn('kind', 'text', (col) => col.notNull())
        .addColumn('sender_account_id', 'text')
        .addColumn('sender_device_id', 'text')
        .addColumn('recipient_account_id', 'text')
        .addColumn('recipient_device_id', 'text')
        .addColumn('client_message_id', bytes, (col) => col.notNull())
        .addColumn('content', bytes)
        .addCheckConstraint('inbox_kind', sql`kind in ('message', 'expired')`)
        .execute();
      await db.schema.createIndex('inbox_device_id_seq').on('inbox').columns(['device_id', 'seq']).execute();
      await db.schema.createIndex('inbox_expires_at').on('inbox').column('expires_at').execute();

      // No foreign key to devices: the record lives exactly as long as the message may sit in an
      // inbox (expireInbox forgets it then), and a send racing its device's removal must not
      // fail on a constraint.
      await db.schema
        .createTable('sent_messages')
        .addColumn('sender_device_id', 'text', (col) => col.notNull())
        .addColumn('client_message_id', bytes, (col) => col.notNull())
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('expires_at', 'bigint', (col) => col.notNull())
        .addPrimaryKeyConstraint('sent_messages_pk', ['sender_device_id', 'client_message_id'])
        .execute();
      await db.schema.createIndex('sent_messages_expires_at').on('sent_messages').column('expires_at').execute();

      await db.schema
        .createTable('contacts')
        .addColumn('account_id', 'text', (col) => col.notNull().references('accounts.account_id').onDelete('cascade'))
        .addColumn('peer_account_id', 'text', (col) => col.notNull().references('accounts.account_id').onDelete('cascade'))
        .addPrimaryKeyConstraint('contacts_pk', ['account_id', 'peer_account_id'])
        .execute();
    },
  };
}

/**
 * Two-step PIN, expiry policies, the security log and temporary sessions (issue 5).
 *
 * The PIN state and policies get their own table rather than columns on `accounts`: the account
 * row is what sends lock (FOR SHARE) and list changes update, and PIN tries, which update often
 * and race on purpose (a compare-and-set on the failure count), should not queue behind them.
 * Every existing account gets its row here, with the defaults a new account gets.
 */
function securityAndTemporarySessions(kind: DialectKind): Migration {
  const serial = kind === DialectKind.Postgres ? 'bigserial' : 'integer';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // One statement per column: SQLite's ALTER TABLE adds one at a time. Existing devices are
      // permanent, with nothing known of their User-Agent or network.
      await db.schema
        .alterTable('devices')
        .addColumn('temporary', 'integer', (col) => col.notNull().defaultTo(0).check(sql`temporary in (0, 1)`))
        .execute();
      await db.schema.alterTable('devices').addColumn('user_agent', 'text', (col) => col.notNull().defaultTo('')).execute();
      await db.schema.alterTable('devices').addColumn('network', 'text', (col) => col.notNull().defaultTo('')).execute();
      await db.schema.alterTable('devices').addColumn('disconnected_at', 'bigint').execute();
      await db.schema
        .alterTable('pending_links')
        .addColumn('temporary', 'integer', (col) => col.notNull().defaultTo(0).check(sql`temporary in (0, 1)`))
        .execute();

      // The expiry sweeps: companions and primaries by last activity (a range scan below the
      // shortest policy), and temporary devices by when their socket went, from a partial index
      // that holds only temporary devices.
      await db.schema.createIndex('devices_kind_last_active_at').on('devices').columns(['kind', 'last_active_at']).execute();
      await db.schema
        .createIndex('devices_temporary_disconnected_at')
        .on('devices')
        .column('disconnected_at')
        .where(sql.ref('temporary'), '=', 1)
        .execute();

      await db.schema
        .createTable('account_security')
        .addColumn('account_id', 'text', (col) => col.primaryKey().references('accounts.account_id').onDelete('cascade'))
        .addColumn('pin_hash', 'text')
        .addColumn('pin_failures', 'integer', (col) => col.notNull())
        .addColumn('pin_next_try_at', 'bigint', (col) => col.notNull())
        .addColumn('pin_locked_until', 'bigint', (col) => col.notNull())
        .addColumn('pin_reminder_stage', 'integer', (col) => col.notNull())
        .addColumn('pin_reminder_since', 'bigint', (col) => col.notNull())
        .addColumn('inactive_days', 'integer', (col) => col.notNull())
        .addColumn('phone_unused_days', 'integer', (col) => col.notNull())
        .addColumn('phone_warning_sent_at', 'bigint', (col) => col.notNull())
        .execute();
      // The sweeps bound their scans by the shortest policy of any account (see kysely-store.ts).
      await db.schema.createIndex('account_security_inactive_days').on('account_security').column('inactive_days').execute();
      await db.schema.createIndex('account_security_phone_unused_days').on('account_security').column('phone_unused_days').execute();
      // The defaults as they were when this migration was written (DEFAULT_INACTIVE_DAYS 30,
      // DEFAULT_PHONE_UNUSED_DAYS 14), spelt out: a released migration must not change when a
      // constant does. The reminder schedule starts from the account's creation.
      await sql`
        insert into account_security (account_id, pin_hash, pin_failures, pin_next_try_at, pin_locked_until,
          pin_reminder_stage, pin_reminder_since, inactive_days, phone_unused_days, phone_warning_sent_at)
        select account_id, null, 0, 0, 0, 0, created_at, 30, 14, 0 from accounts
      `.execute(db);

      // No foreign key to devices: the log outlives the devices it names (SPEC SECLOG-1).
      await db.schema
        .createTable('security_events')
        .$call((table) =>
          kind === DialectKind.Postgres
            ? table.addColumn('seq', serial, (col) => col.primaryKey())
            : table.addColumn('seq', serial, (col) => col.primaryKey().autoIncrement()),
        )
        .addColumn('account_id', 'text', (col) => col.notNull().references('accounts.account_id').onDelete('cascade'))
        .addColumn('at', 'bigint', (col) => col.notNull())
        .addColumn('kind', 'text', (col) => col.notNull())
        .addColumn('device_id', 'text', (col) => col.notNull())
        .addColumn('device_name', 'text', (col) => col.notNull())
        .addColumn('actor', 'text', (col) => col.notNull())
        .addColumn('network', 'text', (col) => col.notNull())
        .execute();
      // Listing and trimming an account's log (newest first); pruning by age across accounts.
      await db.schema.createIndex('security_events_account_at_seq').on('security_events').columns(['account_id', 'at', 'seq']).execute();
      await db.schema.createIndex('security_events_at').on('security_events').column('at').execute();
    },
  };
}

/**
 * Protocol version 2 (ADR 0012): device attestations, the current list's expiry, and one-time
 * ML-KEM prekeys.
 *
 * Existing devices have no attestation: they make one at their next connection, and until then
 * they receive nothing (no contact would trust them anyway). The expiry of each stored list is
 * read from its body, which the server verified when it stored it.
 */
function attestationsAndPqPreKeys(kind: DialectKind): Migration {
  const bytes = kind === DialectKind.Postgres ? 'bytea' : 'blob';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('devices').addColumn('attestation', bytes).execute();
      await db.schema.alterTable('accounts').addColumn('list_expires_at', 'bigint', (col) => col.notNull().defaultTo(0)).execute();
      const lists = await sql<{ account_id: string; list_body: Uint8Array }>`select account_id, list_body from accounts`.execute(db);
      for (const row of lists.rows) {
        // A body that does not decode cannot be a list this server stored; 0 makes it expired.
        const expiresAt = listExpiryV1(new Uint8Array(row.list_body)) ?? 0;
        await sql`update accounts set list_expires_at = ${expiresAt} where account_id = ${row.account_id}`.execute(db);
      }
      await db.schema
        .createTable('pq_one_time_prekeys')
        .addColumn('device_id', 'text', (col) => col.notNull().references('devices.device_id').onDelete('cascade'))
        .addColumn('prekey_id', 'bigint', (col) => col.notNull())
        .addColumn('public_key', bytes, (col) => col.notNull())
        .addColumn('signature', bytes, (col) => col.notNull())
        .addPrimaryKeyConstraint('pq_one_time_prekeys_pk', ['device_id', 'prekey_id'])
        .execute();
    },
  };
}

/**
 * Inbox quotas (SPEC LIMIT-3): each row's content size, so that a device's undelivered bytes can be
 * summed without reading the contents, and an index to count them per sender.
 */
function inboxQuotas(kind: DialectKind): Migration {
  const length = kind === DialectKind.Postgres ? sql`octet_length(content)` : sql`length(content)`;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('inbox').addColumn('content_bytes', 'integer', (col) => col.notNull().defaultTo(0)).execute();
      await sql`update inbox set content_bytes = coalesce(${length}, 0)`.execute(db);
      // Covering, so that the sums never read a row's content.
      await db.schema.createIndex('inbox_device_id_sender').on('inbox').columns(['device_id', 'sender_account_id', 'content_bytes']).execute();
    },
  };
}

/**
 * The `expiresAt` of a device list body in list format 1, or `null`: u8 format (1), account id
 * (u32 length, bytes), u64 version, u64 issuedAt, u64 expiresAt, then the devices. Written out
 * here, frozen, because a migration must read the data as it was when the migration was
 * written, whatever later versions of the list codec accept.
 */
function listExpiryV1(body: Uint8Array): number | null {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (body.length < 5 || view.getUint8(0) !== 1) return null;
  const offset = 5 + view.getUint32(1) + 16;
  if (body.length < offset + 8) return null;
  const value = view.getUint32(offset) * 2 ** 32 + view.getUint32(offset + 4);
  return Number.isSafeInteger(value) ? value : null;
}

/**
 * One inbox index instead of two (docs/performance.md): every inbox row was written into both
 * (device_id, seq), for reading an inbox in order, and (device_id, sender_account_id,
 * content_bytes), for the quota's sums. (device_id, seq, sender_account_id, content_bytes) serves
 * both, the sums still without reading any content, and each row written or acknowledged
 * touches one index fewer.
 */
function oneInboxIndex(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.createIndex('inbox_device_id_seq_sender').on('inbox').columns(['device_id', 'seq', 'sender_account_id', 'content_bytes']).execute();
      await db.schema.dropIndex('inbox_device_id_seq').execute();
      await db.schema.dropIndex('inbox_device_id_sender').execute();
    },
  };
}

/** The name of the first migration, the schema before issue 5 (tests build old databases with it). */
export const INITIAL_MIGRATION = '0001_initial';
/** The schema of issue 5, before protocol version 2 (tests build old databases with it). */
export const SECURITY_MIGRATION = '0002_security_and_temporary_sessions';

/** The migrations for a dialect, by name; names sort in the order they apply. */
export function migrations(kind: DialectKind): Record<string, Migration> {
  return {
    [INITIAL_MIGRATION]: initialSchema(kind),
    [SECURITY_MIGRATION]: securityAndTemporarySessions(kind),
    '0003_attestations_and_pq_prekeys': attestationsAndPqPreKeys(kind),
    '0004_inbox_quotas': inboxQuotas(kind),
    '0005_one_inbox_index': oneInboxIndex(),
  };
}

/** Serves `migrations(kind)` to Kysely's Migrator without reading the file system. */
class InCodeMigrationProvider implements MigrationProvider {
  constructor(private readonly kind: DialectKind) {}

  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve(migrations(this.kind));
  }
}

/** A migration that failed, naming it; the database is left at the last one that succeeded. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

/**
 * Brings the schema up to date. Safe to run from several nodes at once: the Migrator takes a
 * lock (a row lock on PostgreSQL) and the pending migrations run in one transaction (on SQLite
 * too, through the dialect open-sqlite-store.ts sets up), so a failure leaves the schema as it was.
 *
 * `schema` is where the bookkeeping tables live (PostgreSQL's current schema); without it the
 * Migrator would mistake another schema's table of the same name for ours.
 */
export async function migrateToLatest<DB>(db: Kysely<DB>, kind: DialectKind, schema: string | null, logger: StoreLogger | null): Promise<void> {
  await migrate(db, kind, schema, logger, null);
}

/**
 * Brings the schema up to the migration named `target` (not further), as migrateToLatest does:
 * for tests that need a database as an older release left it.
 */
export async function migrateTo<DB>(db: Kysely<DB>, kind: DialectKind, schema: string | null, target: string): Promise<void> {
  if (!(target in migrations(kind))) throw new RangeError(`migrateTo: no migration named ${target}`);
  await migrate(db, kind, schema, null, target);
}

async function migrate<DB>(db: Kysely<DB>, kind: DialectKind, schema: string | null, logger: StoreLogger | null, target: string | null): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: new InCodeMigrationProvider(kind),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    ...(schema === null ? {} : { migrationTableSchema: schema }),
  });
  const { error, results = [] } = await (target === null ? migrator.migrateToLatest() : migrator.migrateTo(target));
  for (const result of results) {
    if (result.status === 'Success') logger?.info({ migration: result.migrationName }, 'store migration applied');
  }
  if (error !== undefined) {
    const failed = results.find((result) => result.status === 'Error')?.migrationName ?? 'unknown';
    throw new MigrationError(`store migration ${failed} failed`, { cause: error });
  }
}
