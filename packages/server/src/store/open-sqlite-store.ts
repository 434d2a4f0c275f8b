/**
 * The embedded store: one SQLite file through better-sqlite3, the default for a single machine.
 * @module
 */
import Sqlite from 'better-sqlite3';
import { Kysely, SqliteAdapter, SqliteDialect, SqliteDriver, type DatabaseConnection, type DialectAdapter, type Driver, type SqliteDialectConfig } from 'kysely';
import { ConnectionLock } from './connection-lock.js';
import { DialectKind, type Database } from './database.js';
import { KyselyStore } from './kysely-store.js';
import { SqliteSendPath } from './sqlite-send-path.js';
import { migrateToLatest } from './migrations.js';
import type { StoreLogger } from './store-logger.js';

/** How long a statement waits for another process's write lock before failing, in ms. */
const BUSY_TIMEOUT_MS = 5000;

/** Opens the SQLite file with the settings the store relies on. */
export function openSqliteDatabase(file: string): Sqlite.Database {
  const database = new Sqlite(file);
  try {
    // WAL lets readers run while a write commits. synchronous=FULL makes every commit wait for
    // the WAL to reach the disk: "accepted" is only sent after the commit, and an acknowledged
    // message must survive a power loss as well as a process kill (NORMAL, the usual WAL
    // setting, survives a kill but may lose the last commits when the power goes).
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = FULL');
    // Off by default in SQLite; removing a device relies on ON DELETE CASCADE.
    database.pragma('foreign_keys = ON');
    database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    return database;
  } catch (error) {
    database.close();
    throw error;
  }
}

/**
 * SQLite's adapter, saying what SQLite can do: schema changes inside a transaction. Kysely's own
 * says no, and its Migrator then runs migrations without one, so a crash half-way through a
 * migration would leave a schema that is neither the old one nor the new one.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

/** Kysely's driver, holding `lock` while Kysely holds the connection (a query, or a whole transaction). */
class LockedSqliteDriver extends SqliteDriver {
  constructor(
    config: SqliteDialectConfig,
    private readonly lock: ConnectionLock,
  ) {
    super(config);
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    await this.lock.acquire();
    return super.acquireConnection();
  }

  override async releaseConnection(): Promise<void> {
    await super.releaseConnection();
    this.lock.release();
  }
}

class PairwiseSqliteDialect extends SqliteDialect {
  constructor(
    private readonly config: SqliteDialectConfig,
    private readonly lock: ConnectionLock,
  ) {
    super(config);
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }

  override createDriver(): Driver {
    return new LockedSqliteDriver(this.config, this.lock);
  }
}

/**
 * The Kysely dialect for a database from `openSqliteDatabase`, with migrations in transactions.
 * `lock` is held whenever Kysely uses the connection, so that the statements the store runs
 * directly (sqlite-send-path.ts) wait for it.
 */
export function sqliteDialect(database: Sqlite.Database, lock = new ConnectionLock()): SqliteDialect {
  return new PairwiseSqliteDialect({ database: withStatementCache(database) }, lock);
}

/** Prepared statements kept per database: the store's queries are a few hundred distinct texts. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * The database as Kysely sees it, preparing each SQL text once. Kysely prepares every query anew,
 * and preparing cost more than running on the send path (docs/performance.md). better-sqlite3 runs
 * one statement at a time on its one connection, so a prepared statement can be reused by the
 * next query of the same text. The least recently used statements go past STATEMENT_CACHE_SIZE
 * (lists of ids make texts of many lengths).
 */
export function withStatementCache(database: Sqlite.Database): Pick<Sqlite.Database, 'prepare' | 'close'> {
  const cache = new Map<string, Sqlite.Statement>();
  return {
    prepare(source: string) {
      let statement = cache.get(source);
      if (statement === undefined) {
        statement = database.prepare(source);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      } else {
        cache.delete(source);
      }
      cache.set(source, statement);
      return statement;
    },
    close() {
      cache.clear();
      database.close();
    },
  } as Pick<Sqlite.Database, 'prepare' | 'close'>;
}

/**
 * Opens (creating if needed) the SQLite database at `file` and migrates it. `':memory:'` gives
 * a private in-memory database, for tests.
 */
export async function openSqliteStore(file: string, logger: StoreLogger | null = null): Promise<KyselyStore> {
  const database = openSqliteDatabase(file);
  const lock = new ConnectionLock();
  const db = new Kysely<Database>({ dialect: sqliteDialect(database, lock) });
  try {
    await migrateToLatest(db, DialectKind.Sqlite, null, logger);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  logger?.info({ store: 'sqlite', file }, 'store opened');
  return new KyselyStore(db, DialectKind.Sqlite, new SqliteSendPath(database, lock));
}
