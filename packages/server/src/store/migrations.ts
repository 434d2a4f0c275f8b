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

/** The migrations for a dialect, by name; names sort in the order they apply. */
export function migrations(kind: DialectKind): Record<string, Migration> {
  return { '0001_initial': initialSchema(kind) };
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
 * lock (a row lock on PostgreSQL) and each migration runs in its own transaction.
 *
 * `schema` is where the bookkeeping tables live (PostgreSQL's current schema); without it the
 * Migrator would mistake another schema's table of the same name for ours.
 */
export async function migrateToLatest<DB>(db: Kysely<DB>, kind: DialectKind, schema: string | null, logger: StoreLogger | null): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: new InCodeMigrationProvider(kind),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    ...(schema === null ? {} : { migrationTableSchema: schema }),
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  for (const result of results) {
    if (result.status === 'Success') logger?.info({ migration: result.migrationName }, 'store migration applied');
  }
  if (error !== undefined) {
    const failed = results.find((result) => result.status === 'Error')?.migrationName ?? 'unknown';
    throw new MigrationError(`store migration ${failed} failed`, { cause: error });
  }
}
