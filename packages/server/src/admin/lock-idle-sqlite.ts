/**
 * Proof that no server is using an SQLite store, held while an admin command replaces or copies
 * it.
 *
 * How it knows: SQLite takes a database out of WAL mode (the server's) only for the sole
 * connection to it, so `journal_mode = DELETE` fails with SQLITE_BUSY while any other connection
 * has the file open, busy or idle, in this process or another (restore.test.ts checks it against
 * an open store, packages/testing/src/backup.test.ts against a running server). When it succeeds
 * it has also folded the WAL into the file and deleted the -wal and -shm files, so the file is
 * complete on its own. An exclusive lock, taken right after and held until `release`, keeps out
 * a server that starts meanwhile: it waits its busy timeout on the lock and fails to start.
 * @module
 */
import Sqlite from 'better-sqlite3';
import { AdminError } from './admin-error.js';
import { isSqliteError } from './inspect-sqlite.js';

/** An SQLite store that no one else has open, locked until `release`. */
export interface IdleSqliteLock {
  /** The locking connection, inside a read transaction: the data cannot change under it. */
  readonly db: Sqlite.Database;
  /** Ends the transaction and closes the connection, letting a server open the file. */
  release(): void;
}

/**
 * Locks the store at `file`, or throws AdminError when a server (or anyone) has it open;
 * `purpose` ends the sentence "the database must not change while it is ...", and `ifUnreadable`
 * says what to do when the file is no database SQLite can read (no one can then tell whether a
 * server has it open).
 */
export function lockIdleSqlite(file: string, purpose: string, ifUnreadable: string): IdleSqliteLock {
  const db = new Sqlite(file, { fileMustExist: true });
  try {
    // Fail at once rather than wait: a server holds its connection for as long as it runs.
    db.pragma('busy_timeout = 0');
    let mode: unknown;
    try {
      mode = db.pragma('journal_mode = DELETE', { simple: true });
    } catch (error) {
      if (isSqliteError(error, 'SQLITE_BUSY') || isSqliteError(error, 'SQLITE_LOCKED')) {
        throw new AdminError(`${file} is in use, most likely by a running server: stop the server first (the database must not change while it is ${purpose})`);
      }
      if (isSqliteError(error, 'SQLITE_NOTADB') || isSqliteError(error, 'SQLITE_CORRUPT')) {
        throw new AdminError(`${file} cannot be read as an SQLite database (${(error as Error).message}): ${ifUnreadable}`, { cause: error });
      }
      throw error;
    }
    if (mode !== 'delete') throw new AdminError(`${file} could not be taken out of WAL mode (journal mode ${String(mode)}); is another program using it?`);
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('begin exclusive');
    // The lock is taken at the first read in exclusive locking mode; read now, not later.
    db.prepare('select count(*) from sqlite_master').get();
  } catch (error) {
    db.close();
    if (isSqliteError(error, 'SQLITE_BUSY')) {
      throw new AdminError(`${file} is in use, most likely by a server that is starting: stop it first (the database must not change while it is ${purpose})`, { cause: error });
    }
    throw error;
  }
  return {
    db,
    release() {
      if (db.inTransaction) db.exec('rollback');
      db.close();
    },
  };
}
