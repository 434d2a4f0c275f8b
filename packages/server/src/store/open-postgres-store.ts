/**
 * The shared store: PostgreSQL through a `pg` pool, for several server nodes.
 * @module
 */
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { DialectKind, type Database } from './database.js';
import { KyselyStore } from './kysely-store.js';
import { migrateToLatest } from './migrations.js';
import { PostgresSendPath } from './postgres-send-path.js';
import type { StoreLogger } from './store-logger.js';

/** Where and how to connect. */
export interface PostgresStoreOptions {
  /** A postgres:// URL. Never logged: it may hold a password. */
  readonly connectionString: string;
  /** Schema to work in (tests use a fresh one per run); `null`: the server's search_path. */
  readonly searchPath: string | null;
  /** Most connections this node opens. */
  readonly maxConnections?: number;
}

/** A schema name we can put in a connection option without quoting. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Opens a pool on the database and migrates it. */
export async function openPostgresStore(options: PostgresStoreOptions, logger: StoreLogger | null = null): Promise<KyselyStore> {
  if (options.searchPath !== null && !SCHEMA_NAME.test(options.searchPath)) {
    throw new RangeError('openPostgresStore: searchPath must be a lower-case SQL identifier');
  }
  // pg lets an `options` parameter in the URL replace the `options` setting, so it is taken out
  // of the URL and kept in front of ours (with -c, the last setting of a name wins).
  const url = new URL(options.connectionString);
  const urlOptions = url.searchParams.get('options');
  url.searchParams.delete('options');
  const settings = [urlOptions ?? ''];
  // synchronous_commit=on for our sessions whatever the database's default: "accepted" is only
  // sent after the commit, and with it off an acknowledged message could vanish in a crash.
  settings.push('-c synchronous_commit=on');
  if (options.searchPath !== null) settings.push(`-c search_path=${options.searchPath}`);
  const pool = new pg.Pool({
    // The URL as given unless it had to change: a rewrite could only add surprises.
    connectionString: urlOptions === null ? options.connectionString : url.href,
    options: settings.filter((setting) => setting !== '').join(' '),
    max: options.maxConnections ?? 25,
  });
  // An idle connection dropped by the server is reported here; without a listener it would
  // crash the process. The pool replaces it on the next query.
  pool.on('error', (error) => logger?.error({ store: 'postgres', err: error.message }, 'idle database connection failed'));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    const { rows } = await sql<{ schema: string | null; fsync: string }>`select current_schema() as schema, current_setting('fsync') as fsync`.execute(db);
    const schema = rows[0]?.schema ?? null;
    if (schema === null) throw new Error('PostgreSQL has no current schema: check the search_path (or the searchPath option)');
    if (rows[0]?.fsync !== 'on') {
      logger?.warn({ store: 'postgres' }, 'PostgreSQL runs with fsync off: acknowledged messages can be lost in a power cut');
    }
    await migrateToLatest(db, DialectKind.Postgres, schema, logger);
    // Host and database name only: the URL's user info may hold a password.
    logger?.info({ store: 'postgres', host: url.host, database: url.pathname.slice(1), schema }, 'store opened');
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return new KyselyStore(db, DialectKind.Postgres, new PostgresSendPath(pool));
}
