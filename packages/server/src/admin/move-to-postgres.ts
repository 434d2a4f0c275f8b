/**
 * `pairwise-admin move-to-postgres`: copies an SQLite installation into an empty PostgreSQL
 * database, so that the server started on DATABASE_URL finds everything (SPEC OPS-6).
 *
 * The schema is made by the server's own migrations (migrations.ts), then every table is copied
 * in one PostgreSQL transaction: a failure half-way leaves the target as empty as it was. The
 * SQLite store is locked throughout (lock-idle-sqlite.ts), so no server writes to it meanwhile and
 * none can accept a message there that would not be moved. Its data is read, never changed (the
 * lock only folds its WAL into the file), and it stays as a fallback.
 * @module
 */
import type Sqlite from 'better-sqlite3';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { join } from 'node:path';
import { DialectKind, type Database } from '../store/database.js';
import { migrateToLatest } from '../store/migrations.js';
import { SQLITE_FILE_NAME } from '../store/open-store.js';
import { AdminError } from './admin-error.js';
import { inspectSqlite, knownMigrations, MIGRATION_TABLE_NAME } from './inspect-sqlite.js';
import { lockIdleSqlite } from './lock-idle-sqlite.js';
import { pathExists } from './path-exists.js';
import { toPostgresValue, type PostgresParameter } from './postgres-value.js';

/** What to move where. */
export interface MoveOptions {
  /** The SQLite installation's DATA_DIR. */
  readonly dataDir: string;
  /** The target, a postgres:// URL (an `options=-c search_path=...` in it is honoured, as by the server). */
  readonly databaseUrl: string;
}

/** What was moved. */
export interface MoveReport {
  readonly source: string;
  /** Host, database and schema of the target: never the URL, which may hold a password. */
  readonly target: { readonly host: string; readonly database: string; readonly schema: string };
  /** Rows copied, per table, in copy order. */
  readonly tables: readonly { readonly table: string; readonly rows: number }[];
}

/**
 * Every table of the store with its place in the copy: a table comes after those its foreign keys
 * name. `satisfies` makes a table added to `Database` fail to compile until it is placed here, so
 * that a new table is never silently left behind.
 */
const COPY_ORDER = {
  accounts: 0,
  account_security: 1,
  contacts: 1,
  security_events: 1,
  devices: 1,
  signed_prekeys: 2,
  one_time_prekeys: 2,
  pq_one_time_prekeys: 2,
  inbox: 2,
  pending_links: 3,
  sent_messages: 3,
} satisfies Record<keyof Database, number>;

/** The tables in copy order. */
export const COPIED_TABLES = (Object.keys(COPY_ORDER) as (keyof Database)[]).sort((a, b) => COPY_ORDER[a] - COPY_ORDER[b]);

/** Bounds of one multi-row insert: PostgreSQL takes at most 65,535 parameters; the bytes bound keeps memory flat. */
const MAX_PARAMETERS = 60_000;
const MAX_BATCH_ROWS = 500;
const MAX_BATCH_BYTES = 8 * 1024 * 1024;

/** A column of the target table as information_schema describes it. */
interface TargetColumn {
  readonly name: string;
  readonly dataType: string;
  /** Filled by a sequence (bigserial): the sequence must be moved past the copied values. */
  readonly serial: boolean;
}

/** Moves the installation in `dataDir` into the database at `databaseUrl`; AdminError when it cannot. */
export async function moveToPostgres(options: MoveOptions): Promise<MoveReport> {
  const source = join(options.dataDir, SQLITE_FILE_NAME);
  if (!(await pathExists(source))) throw new AdminError(`there is no database at ${source}: is DATA_DIR right?`);
  const lock = lockIdleSqlite(source, 'moved', 'restore a backup first (pairwise-admin restore), then move');
  try {
    const summary = inspectSqlite(lock.db, `the database ${source}`);
    if (!summary.upToDate) {
      throw new AdminError(
        `the database ${source} has schema ${summary.schema}, older than this release's ${knownMigrations().at(-1)}: ` +
          'start this release of the server on it once (it migrates the database), stop it, then move',
      );
    }
    checkTables(sqliteTables(lock.db), `the database ${source}`);
    return { source, ...(await copyInto(lock.db, options.databaseUrl)) };
  } finally {
    lock.release();
  }
}

async function copyInto(sqlite: Sqlite.Database, databaseUrl: string): Promise<Omit<MoveReport, 'source'>> {
  const url = new URL(databaseUrl);
  // The URL as given: pg reads its options (search_path) itself, as it does for the server.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
    const schema = rows[0]?.schema ?? null;
    if (schema === null) throw new AdminError('PostgreSQL has no current schema: check the search_path in DATABASE_URL');
    try {
      await migrateToLatest(db, DialectKind.Postgres, schema, null);
    } catch (error) {
      throw new AdminError(`the PostgreSQL migrations failed: ${reason(error)}`, { cause: error });
    }
    const client = await pool.connect();
    try {
      await client.query('begin');
      const tables = await copyTables(client, sqlite, schema);
      await client.query('commit');
      return { target: { host: url.host, database: url.pathname.slice(1), schema }, tables };
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  } catch (error) {
    if (error instanceof AdminError) throw error;
    // A message, never the error's detail: PostgreSQL puts key values there.
    throw new AdminError(`moving into PostgreSQL failed and no row was written there (its tables may have been created): ${reason(error)}`, { cause: error });
  } finally {
    await db.destroy();
  }
}

async function copyTables(client: pg.PoolClient, sqlite: Sqlite.Database, schema: string): Promise<{ table: string; rows: number }[]> {
  // The commit must be durable before the operator switches the server over and retires SQLite.
  await client.query('set local synchronous_commit = on');
  // Writers (a server started on the target too early) wait until the copy is committed.
  await client.query(`lock table ${COPIED_TABLES.map(quote).join(', ')} in exclusive mode`);
  const columns = await targetColumns(client, schema);
  checkTables(new Set(columns.keys()), `the PostgreSQL schema ${schema}`);
  const occupied: string[] = [];
  for (const table of COPIED_TABLES) {
    const count = Number((await client.query<{ n: string }>(`select count(*) as n from ${quote(table)}`)).rows[0]?.n ?? 0);
    if (count > 0) occupied.push(`${count} in ${table}`);
  }
  if (occupied.length > 0) {
    throw new AdminError(`the PostgreSQL schema ${schema} already holds data (rows: ${occupied.join(', ')}): move only into an empty database, never over one in use`);
  }
  const copied: { table: string; rows: number }[] = [];
  for (const table of COPIED_TABLES) {
    const target = columns.get(table)!;
    checkColumns(sqlite, table, target);
    const rows = await copyTable(client, sqlite, table, target);
    const inTarget = Number((await client.query<{ n: string }>(`select count(*) as n from ${quote(table)}`)).rows[0]?.n);
    const inSource = sqlite.prepare(`select count(*) from ${quote(table)}`).pluck().get() as number;
    if (inTarget !== rows || inSource !== rows) throw new AdminError(`${table}: ${inSource} rows in SQLite, ${rows} copied, ${inTarget} in PostgreSQL; nothing was written`);
    for (const column of target.filter((c) => c.serial)) await moveSequence(client, sqlite, table, column.name);
    copied.push({ table, rows });
  }
  return copied;
}

/** Copies one table in batched multi-row inserts, streaming the SQLite rows; returns how many. */
async function copyTable(client: pg.PoolClient, sqlite: Sqlite.Database, table: string, columns: readonly TargetColumn[]): Promise<number> {
  const names = columns.map((column) => quote(column.name)).join(', ');
  // safeIntegers: every integer as a BigInt, so that none is rounded on the way through.
  const statement = sqlite.prepare(`select ${names} from ${quote(table)} order by rowid`).raw(true).safeIntegers(true);
  const batchRows = Math.min(MAX_BATCH_ROWS, Math.floor(MAX_PARAMETERS / columns.length));
  let batch: PostgresParameter[][] = [];
  let bytes = 0;
  let count = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const placeholders = batch.map((_, row) => `(${columns.map((_c, i) => `$${row * columns.length + i + 1}`).join(', ')})`);
    await client.query(`insert into ${quote(table)} (${names}) values ${placeholders.join(', ')}`, batch.flat());
    batch = [];
    bytes = 0;
  };
  for (const values of statement.iterate() as Iterable<unknown[]>) {
    count++;
    const row = columns.map((column, i) => toPostgresValue(values[i], column.dataType, `${table}.${column.name}, row ${count}`));
    batch.push(row);
    bytes += row.reduce((sum, value) => sum + (value === null ? 0 : value.length), 0);
    if (batch.length >= batchRows || bytes >= MAX_BATCH_BYTES) await flush();
  }
  await flush();
  return count;
}

/**
 * Sets the sequence behind `table.column` so that the next value is above every one SQLite ever
 * gave out: AUTOINCREMENT never reuses a seq, even of a deleted (acknowledged) row, and neither
 * may PostgreSQL after the move, or a device's cursor could pass over a new row.
 */
async function moveSequence(client: pg.PoolClient, sqlite: Sqlite.Database, table: string, column: string): Promise<void> {
  const hasSequenceTable = sqlite.prepare("select 1 from sqlite_master where type = 'table' and name = 'sqlite_sequence'").get() !== undefined;
  const given = hasSequenceTable ? ((sqlite.prepare('select seq from sqlite_sequence where name = ?').safeIntegers(true).pluck().get(table) as bigint | undefined) ?? 0n) : 0n;
  const highest = (sqlite.prepare(`select max(${quote(column)}) from ${quote(table)}`).safeIntegers(true).pluck().get() as bigint | null) ?? 0n;
  const last = given > highest ? given : highest;
  // setval(s, n, true): the next value is n + 1; with none given yet, setval(s, 1, false) makes it 1.
  const [value, called] = last > 0n ? [last.toString(), true] : ['1', false];
  await client.query('select setval(pg_get_serial_sequence($1, $2), $3, $4)', [quote(table), column, value, called]);
}

async function targetColumns(client: pg.PoolClient, schema: string): Promise<Map<string, TargetColumn[]>> {
  const { rows } = await client.query<{ table_name: string; column_name: string; data_type: string; column_default: string | null }>(
    'select table_name, column_name, data_type, column_default from information_schema.columns where table_schema = $1 order by table_name, ordinal_position',
    [schema],
  );
  const tables = new Map<string, TargetColumn[]>();
  for (const row of rows) {
    if (row.table_name.startsWith(MIGRATION_TABLE_NAME)) continue;
    const columns = tables.get(row.table_name) ?? [];
    columns.push({ name: row.column_name, dataType: row.data_type, serial: row.column_default?.startsWith('nextval(') ?? false });
    tables.set(row.table_name, columns);
  }
  return tables;
}

/** The store's tables in the SQLite file (SQLite's own and the migrations' bookkeeping left out). */
function sqliteTables(db: Sqlite.Database): Set<string> {
  const names = db.prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'").pluck().all() as string[];
  return new Set(names.filter((name) => !name.startsWith(MIGRATION_TABLE_NAME)));
}

/** Both sides must have exactly the tables this command copies: anything else would be lost or unfilled. */
function checkTables(present: ReadonlySet<string>, where: string): void {
  const missing = COPIED_TABLES.filter((table) => !present.has(table));
  const unknown = [...present].filter((table) => !(COPIED_TABLES as string[]).includes(table));
  if (missing.length > 0) throw new AdminError(`${where} lacks the tables ${missing.join(', ')}`);
  if (unknown.length > 0) throw new AdminError(`${where} has tables this release does not know (${unknown.join(', ')}); move with the release that made them`);
}

function checkColumns(sqlite: Sqlite.Database, table: string, target: readonly TargetColumn[]): void {
  const inSqlite = new Set((sqlite.pragma(`table_info(${quote(table)})`) as { name: string }[]).map((column) => column.name));
  const inTarget = new Set(target.map((column) => column.name));
  const differ = [...inSqlite].filter((name) => !inTarget.has(name)).concat([...inTarget].filter((name) => !inSqlite.has(name)));
  if (differ.length > 0) throw new AdminError(`${table} has different columns in SQLite and PostgreSQL (${differ.join(', ')}); nothing was written`);
}

/** Quotes an identifier from our own table list or information_schema (never from input). */
function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

function reason(error: unknown): string {
  if (error instanceof Error) return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
  return String(error);
}
