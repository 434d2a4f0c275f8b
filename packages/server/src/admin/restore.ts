/**
 * `pairwise-admin restore <file>`: puts a backup in place of the SQLite store (SPEC OPS-5).
 *
 * Order of work, each step there for a failure it survives:
 * 1. lock the current store, which fails while a server has it open (lock-idle-sqlite.ts) and
 *    keeps one from starting until the end;
 * 2. copy the backup to a temporary file beside the store and verify that copy, not the original:
 *    what is checked is exactly what is put in place;
 * 3. sync it, then rename the current store (and any -wal, -shm or -journal file of it) to a
 *    timestamped name, then the copy to the store's name, then sync the directory. A crash at any
 *    point leaves either the old store or the restored one under the store's name, never a mix,
 *    and the old one is kept, never deleted.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, mkdir, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import Sqlite from 'better-sqlite3';
import { SQLITE_FILE_NAME } from '../store/open-store.js';
import { AdminError } from './admin-error.js';
import { fsyncPath } from './durable-files.js';
import { pathExists } from './path-exists.js';
import { inspectSqlite, type StoreSummary } from './inspect-sqlite.js';
import { lockIdleSqlite, type IdleSqliteLock } from './lock-idle-sqlite.js';

/** Which backup goes where. */
export interface RestoreOptions {
  /** The server's DATA_DIR (created if missing). */
  readonly dataDir: string;
  /** The backup file, as `backup` wrote it (or any Pairwise SQLite database). */
  readonly file: string;
  /** Names the kept store. */
  readonly now: Date;
}

/** What was done. */
export interface RestoreReport {
  /** The store's path, now holding the backup. */
  readonly store: string;
  readonly summary: StoreSummary;
  readonly bytes: number;
  /** Where the replaced store was kept, or null when there was none. */
  readonly replacedKeptAs: string | null;
}

/** Files SQLite keeps beside a database; they belong to it and move with it. */
const SIDE_FILES = ['-wal', '-shm', '-journal'] as const;

/** Restores `file` into `dataDir`; throws AdminError (changing nothing) when it cannot. */
export async function restore(options: RestoreOptions): Promise<RestoreReport> {
  const file = resolve(options.file);
  const dataDir = resolve(options.dataDir);
  const store = join(dataDir, SQLITE_FILE_NAME);
  if (!(await pathExists(file))) throw new AdminError(`there is no backup at ${file}`);
  if (!(await stat(file)).isFile()) throw new AdminError(`${file} is not a file`);
  // A backup in WAL mode with its WAL beside it: part of it may be in that file, which a copy of
  // the main file alone would lose.
  if (await pathExists(`${file}-wal`)) {
    throw new AdminError(`${file}-wal lies beside the backup and may hold part of it: open the backup once with sqlite3 (or take a new one with pairwise-admin backup)`);
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // A damaged store is a reason to restore, but then nothing can tell whether a server has it
  // open: the operator, who knows the server is stopped, moves it aside.
  const ifUnreadable = 'with the server stopped, move it and any -wal and -shm file beside it out of DATA_DIR, then restore again';
  const lock: IdleSqliteLock | null = (await pathExists(store)) ? lockIdleSqlite(store, 'restored', ifUnreadable) : null;
  const temporary = join(dataDir, `.${SQLITE_FILE_NAME}.restoring-${randomBytes(6).toString('hex')}`);
  try {
    await copyFile(file, temporary, constants.COPYFILE_EXCL);
    // Owner-only, as the server makes its store: it holds metadata if not content.
    await chmod(temporary, 0o600);
    const summary = verify(temporary, `the backup ${file}`);
    await fsyncPath(temporary);
    const replacedKeptAs = await keepAside(store, options.now);
    await rename(temporary, store);
    await fsyncPath(dataDir);
    return { store, summary, bytes: (await stat(store)).size, replacedKeptAs };
  } finally {
    await unlink(temporary).catch(() => {});
    // Released only now: a server starting during the restore waits on this lock and gives up
    // rather than open the store half-way through the swap.
    lock?.release();
  }
}

/** Checks the copy and makes it one self-contained file (DELETE mode; the server switches it back to WAL). */
function verify(copy: string, what: string): StoreSummary {
  let db: Sqlite.Database | null = null;
  try {
    db = new Sqlite(copy, { fileMustExist: true });
    db.pragma('journal_mode = DELETE');
    return inspectSqlite(db, what);
  } catch (error) {
    if (error instanceof AdminError) throw error;
    // journal_mode is the first read: a file that is not a database fails there.
    throw new AdminError(`${what} cannot be read as an SQLite database (${(error as Error).message})`, { cause: error });
  } finally {
    db?.close();
  }
}

/**
 * Renames the store and its side files to `<store>.replaced-<time>` (and `...-wal` and so on).
 * After the lock put it in DELETE mode there are no -wal or -shm files; any left from a store
 * that was not there (a crash long ago) move too, so that none can be replayed into the
 * restored database. Returns the new name, or null when there was nothing to keep.
 */
async function keepAside(store: string, now: Date): Promise<string | null> {
  const present = await Promise.all(['', ...SIDE_FILES].map(async (suffix) => ((await pathExists(store + suffix)) ? suffix : null)));
  const suffixes = present.filter((suffix) => suffix !== null);
  if (suffixes.length === 0) return null;
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  let kept = `${store}.replaced-${stamp}`;
  for (let n = 2; await pathExists(kept); n++) kept = `${store}.replaced-${stamp}-${n}`;
  for (const suffix of suffixes) await rename(store + suffix, kept + suffix);
  return suffixes.includes('') ? kept : null;
}
