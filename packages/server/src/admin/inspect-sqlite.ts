/**
 * What an admin command checks before it trusts an SQLite file as a Pairwise store, and the
 * summary it prints of it. The summary is counts and names of migrations only: an operator needs
 * to see that a backup holds what it should, not who the accounts are or what they sent.
 * @module
 */
import type Sqlite from 'better-sqlite3';
import { DialectKind } from '../store/database.js';
import { migrations } from '../store/migrations.js';
import { AdminError } from './admin-error.js';

/**
 * Kysely's bookkeeping table as migrations.ts names it (it keeps the constant private): which
 * migrations a database has had. The tests open stores made by the real migration code, so a
 * rename there fails them.
 */
export const MIGRATION_TABLE_NAME = 'pairwise_migration';

/** What a Pairwise SQLite database holds, in counts. */
export interface StoreSummary {
  /** The last migration applied: the schema version. */
  readonly schema: string;
  /** The schema is this release's latest (otherwise older: the server migrates it at start). */
  readonly upToDate: boolean;
  readonly accounts: number;
  readonly devices: number;
  /** Inbox rows not yet acknowledged: messages and expiry notices. */
  readonly inboxRows: number;
}

/** The migrations this release knows, in the order they apply (their names sort that way). */
export function knownMigrations(): string[] {
  return Object.keys(migrations(DialectKind.Sqlite)).sort();
}

/**
 * Runs SQLite's full integrity check and reads the schema version and counts of `db`; throws
 * AdminError, naming `what` ("the backup backup.sqlite"), when it is damaged (the message ends
 * with `ifDamaged`, what to do), not a Pairwise store, or written by a newer release than this one.
 */
export function inspectSqlite(db: Sqlite.Database, what: string, ifDamaged = 'use another backup'): StoreSummary {
  let problems: unknown[];
  try {
    problems = db.pragma('integrity_check', { simple: false }) as unknown[];
  } catch (error) {
    if (isSqliteError(error, 'SQLITE_NOTADB')) throw new AdminError(`${what} is not an SQLite database`);
    if (isSqliteError(error, 'SQLITE_CORRUPT')) throw new AdminError(`${what} is damaged (SQLite cannot read it): ${ifDamaged}`);
    throw error;
  }
  const ok = problems.length === 1 && (problems[0] as { integrity_check?: unknown }).integrity_check === 'ok';
  if (!ok) throw new AdminError(`${what} failed SQLite's integrity check (${problems.length} problems): it is damaged: ${ifDamaged}`);

  const hasMigrations = db.prepare("select 1 from sqlite_master where type = 'table' and name = ?").get(MIGRATION_TABLE_NAME) !== undefined;
  const applied = hasMigrations ? (db.prepare(`select name from ${MIGRATION_TABLE_NAME} order by name`).pluck().all() as string[]) : [];
  const schema = applied.at(-1);
  if (schema === undefined) throw new AdminError(`${what} is not a Pairwise database (it has no ${MIGRATION_TABLE_NAME} table or no migration in it)`);
  const known = knownMigrations();
  // Applied migrations must be a prefix of ours: anything else was written by a newer release,
  // whose schema this server would misread.
  if (applied.length > known.length || applied.some((name, i) => known[i] !== name)) {
    throw new AdminError(`${what} was written by a newer release of Pairwise (schema ${schema}); use that release or a later one`);
  }
  const count = (table: string): number => db.prepare(`select count(*) from ${table}`).pluck().get() as number;
  return { schema, upToDate: applied.length === known.length, accounts: count('accounts'), devices: count('devices'), inboxRows: count('inbox') };
}

/** The summary as lines for the operator, indented under a heading the command prints. */
export function formatSummary(summary: StoreSummary, bytes: number): string[] {
  const latest = knownMigrations().at(-1);
  return [
    '  integrity check: ok',
    `  schema: ${summary.schema}${summary.upToDate ? '' : ` (older than this release's ${latest}: the server migrates it when it starts)`}`,
    `  accounts: ${summary.accounts}`,
    `  devices: ${summary.devices}`,
    `  undelivered inbox rows: ${summary.inboxRows}`,
    `  size: ${bytes} bytes (${(bytes / (1024 * 1024)).toFixed(1)} MiB)`,
  ];
}

/** An error from better-sqlite3 with this SQLite result code, or one of its extended codes (SQLITE_BUSY_RECOVERY). */
export function isSqliteError(error: unknown, code: string): boolean {
  const actual = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof actual === 'string' && (actual === code || actual.startsWith(`${code}_`));
}
