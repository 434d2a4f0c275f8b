/**
 * `pairwise-admin backup <file>`: a consistent copy of the SQLite store taken while the server
 * runs (SPEC OPS-5).
 *
 * The copy goes through SQLite's online backup API on a read-only connection of its own. It
 * copies every page in one step, inside one read transaction: in WAL mode the server keeps
 * committing meanwhile (readers never block the writer), and the copy is the database as of one
 * commit. Copying in several steps would restart the copy at every commit the server makes
 * between two steps, and a busy server could keep it from ever finishing.
 * @module
 */
import { open, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import Sqlite from 'better-sqlite3';
import { SQLITE_FILE_NAME } from '../store/open-store.js';
import { AdminError } from './admin-error.js';
import { fsyncPath } from './durable-files.js';
import { pathExists } from './path-exists.js';
import { inspectSqlite, isSqliteError, type StoreSummary } from './inspect-sqlite.js';

/** What to back up, and where to. */
export interface BackupOptions {
  /** The server's DATA_DIR. */
  readonly dataDir: string;
  /** The backup file to create; it must not exist. */
  readonly file: string;
}

/** What was written. */
export interface BackupReport {
  readonly source: string;
  readonly file: string;
  readonly summary: StoreSummary;
  readonly bytes: number;
}

/** Pages per backup step: all of them at once (see the module comment). better-sqlite3 caps it here. */
const ALL_PAGES = 0x7fffffff;

/** How long the copy waits for a lock the server holds for a moment (a checkpoint), in ms. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Copies the store in `dataDir` to `file`, verifies the copy and counts what it holds. The backup
 * is one self-contained file (no -wal beside it), readable by its owner only: it holds the same
 * metadata as the store.
 */
export async function backup(options: BackupOptions): Promise<BackupReport> {
  const source = join(options.dataDir, SQLITE_FILE_NAME);
  const file = resolve(options.file);
  if (!(await pathExists(source))) throw new AdminError(`there is no database at ${source}: is DATA_DIR right?`);
  if (!(await pathExists(dirname(file)))) throw new AdminError(`the directory ${dirname(file)} does not exist`);
  // Created here, exclusively, so that two backups to one name cannot both write it and an
  // existing file is never overwritten; SQLite takes an empty file for an empty database.
  try {
    await (await open(file, 'wx', 0o600)).close();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new AdminError(`${file} already exists: choose a new name (a backup never overwrites a file)`);
    throw error;
  }
  try {
    await copy(source, file);
    const summary = verify(file, source);
    await fsyncPath(file);
    await fsyncPath(dirname(file));
    return { source, file, summary, bytes: (await stat(file)).size };
  } catch (error) {
    await unlink(file).catch(() => {});
    throw error;
  }
}

async function copy(source: string, file: string): Promise<void> {
  // Read-only: the backup cannot change the store, whatever goes wrong.
  const db = new Sqlite(source, { readonly: true, fileMustExist: true });
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    await db.backup(file, { progress: () => ALL_PAGES });
  } finally {
    db.close();
  }
}

/**
 * Turns the copy into a self-contained file and checks it. The copy keeps the store's WAL mode
 * in its header; in DELETE mode it is one file that can be moved and copied alone.
 */
function verify(file: string, source: string): StoreSummary {
  // A page-for-page copy is damaged where the store is: the advice is about the store.
  const ifDamaged = `the store itself is damaged (check the disk), so no backup was kept; run "sqlite3 ${source} 'pragma integrity_check'" for the details`;
  const db = new Sqlite(file, { fileMustExist: true });
  try {
    db.pragma('journal_mode = DELETE');
    return inspectSqlite(db, `the copy of ${source}`, ifDamaged);
  } catch (error) {
    if (isSqliteError(error, 'SQLITE_CORRUPT')) throw new AdminError(`the copy of ${source} cannot be read: ${ifDamaged}`, { cause: error });
    throw error;
  } finally {
    db.close();
  }
}
