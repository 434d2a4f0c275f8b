/**
 * The e2e server's embedded SQLite database, for the few tests that must put the server in a
 * state no request can (a contact's key replaced, an account briefly gone). The server must use
 * SQLite (start it with `DATABASE_URL: ''`).
 * @module
 */
import { join } from 'node:path';
import type { ServerProcess } from '@pairwise/testing/server-process';
import Sqlite from 'better-sqlite3';

/** The server's database file in its data directory (packages/server's SQLITE_FILE_NAME). */
const SQLITE_FILE = 'pairwise.sqlite';

/**
 * Runs `work` in one transaction on the server's database, while the server keeps running. With
 * `foreignKeys: false` a deleted row takes nothing with it (no cascades), for a change undone later.
 */
export function withServerDatabase<T>(
  server: Pick<ServerProcess, 'dataDir'>,
  work: (database: Sqlite.Database) => T,
  options: { readonly foreignKeys?: boolean } = {},
): T {
  const database = new Sqlite(join(server.dataDir, SQLITE_FILE));
  try {
    database.pragma('busy_timeout = 5000');
    // Outside the transaction: SQLite ignores this pragma inside one.
    database.pragma(`foreign_keys = ${options.foreignKeys === false ? 'OFF' : 'ON'}`);
    // IMMEDIATE: a read-then-write transaction that starts deferred fails at once ("database is
    // locked") when the server wrote meanwhile; taking the write lock first waits for it instead.
    return database.transaction(() => work(database)).immediate();
  } finally {
    database.close();
  }
}

/**
 * Takes `accountId`'s account row away (its devices and their rows stay), as if the account were
 * gone: the server refuses messages to it with UNKNOWN_ACCOUNT. Returns what puts it back exactly
 * as it was.
 */
export function hideAccount(server: Pick<ServerProcess, 'dataDir'>, accountId: string): () => void {
  const row = withServerDatabase(
    server,
    (database) => {
      const account = database.prepare('select * from accounts where account_id = ?').get(accountId) as Record<string, unknown> | undefined;
      if (account === undefined) throw new Error(`the server has no account ${accountId}`);
      database.prepare('delete from accounts where account_id = ?').run(accountId);
      return account;
    },
    { foreignKeys: false },
  );
  return () =>
    withServerDatabase(server, (database) => {
      const columns = Object.keys(row);
      database.prepare(`insert into accounts (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`).run(...columns.map((column) => row[column]));
    });
}
