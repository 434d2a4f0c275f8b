/**
 * A `ClientStore` on the Node file system, for command-line clients, bots, tests and benchmarks.
 *
 * Layout: one JSON file per table (`sessions.json`, `messages.json`, ...) in one directory. One
 * file per table rather than one for everything, because a write rewrites its whole file: a new
 * message then rewrites the message history but not the identity keys and sessions, and a file
 * damaged by something outside our control takes one table with it, not the account. Nothing needs
 * atomicity across tables: every `ClientStore` operation touches one key of one table.
 *
 * Each write goes to a temporary file that is flushed to disk (`fsync`) and then renamed over the
 * table's file. A rename within one directory is atomic on POSIX file systems and on NTFS, so a
 * crash or power cut leaves either the old file or the new one, never half of one.
 *
 * The cost of a write grows with its table, which suits the Node clients above; a Node client
 * with years of history would want a database behind this interface instead.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { STORE_TABLES, type ClientStore, type StoreTable } from '../client-store.js';
import { compareKeys } from '../key-order.js';
import { structuredCloneValue } from '../platform.js';
import { assertKey, assertPrefix, assertStorableValue, assertTable } from '../store-arguments.js';
import { StoreClosedError, StoreCorruptError } from '../store-errors.js';
import { InProcessLocks, type DeviceLock, type DeviceLockOptions } from '../device-lock.js';
import { takeLockFile, type HeldLockFile } from './lock-file.js';
import { checkEncodedValue, decodeValue, encodeValue, type EncodedValue } from './tagged-json.js';

/** Written into every table file, so that a foreign or future file is refused, not misread. */
const FILE_FORMAT = 'pairwise-client-store';
const FILE_VERSION = 1;

// Files hold private keys and session secrets: readable by their owner only.
const FILE_MODE = 0o600;
const DIRECTORY_MODE = 0o700;

/** `sessions.json.<uuid>.tmp`: a write in progress, or one a crash interrupted. */
const TEMP_FILE = /^[a-z]+\.json\.[0-9a-f-]{36}\.tmp$/;

type Table = Map<string, EncodedValue>;

/** Clients of one file store object take turns through this (the lock file keeps other processes out). */
const clientLocks = new InProcessLocks<FileStore>();

/**
 * A `ClientStore` kept in JSON files in one directory, loaded into memory when opened.
 *
 * `CryptoKey`s are written as JWKs, so they must be extractable (`needsExtractableKeys`); the
 * files are as sensitive as the keys and sessions in them (mode 0600 in a 0700 directory). One
 * `FileStore` at a time may use a directory: it holds the directory's lock file (`device.lock`)
 * from `open` to `close` or `wipe`, and a second one, in this process or another, is refused
 * with `DeviceInUseError`; a lock left by a process that died is taken over. Operations run one
 * after another in call order, so concurrent puts never interleave their writes and a read sees
 * every write called before it.
 *
 * @example
 * ```ts
 * const store = await FileStore.open('/var/lib/pairwise-bot');
 * await store.put(StoreTable.Meta, 'lastSequence', 42);
 * await store.close();
 * ```
 */
export class FileStore implements ClientStore {
  /** JSON holds bytes, not key handles: keys are exported to be written. */
  readonly needsExtractableKeys = true;

  /** Every operation waits for the ones called before it. */
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly directory: string,
    // Encoded values: a read decodes a fresh copy, and a write need not export keys again.
    private readonly tables: Map<StoreTable, Table>,
    private readonly lockFile: HeldLockFile,
  ) {}

  /**
   * Opens the store in `directory`, creating the directory if needed, takes its lock file and
   * loads every table. Rejects with `DeviceInUseError` while another store (of any process on this
   * host) has the directory open, and with `StoreCorruptError` if a table file cannot be read as
   * one, leaving it untouched.
   */
  static async open(directory: string): Promise<FileStore> {
    if (typeof directory !== 'string' || directory === '') {
      throw new TypeError('directory must be a non-empty path');
    }
    await mkdir(directory, { recursive: true, mode: DIRECTORY_MODE });
    const lockFile = await takeLockFile(directory);
    try {
      // A temporary file left behind was never renamed into place, so it was never committed.
      await removeTempFiles(directory);
      const tables = new Map<StoreTable, Table>();
      for (const table of STORE_TABLES) tables.set(table, await loadTable(directory, table));
      return new FileStore(directory, tables, lockFile);
    } catch (error) {
      await lockFile.release();
      throw error;
    }
  }

  /** {@inheritDoc ClientStore.acquireDeviceLock} */
  acquireDeviceLock(options?: DeviceLockOptions): Promise<DeviceLock> {
    if (this.closed) return Promise.reject(new StoreClosedError('the file store was closed or wiped'));
    return clientLocks.acquire(this, options);
  }

  /** {@inheritDoc ClientStore.get} */
  get<T>(table: StoreTable, key: string): Promise<T | undefined> {
    return this.enqueue(async () => {
      assertTable(table);
      assertKey(key);
      const encoded = this.table(table).get(key);
      return encoded === undefined ? undefined : decode<T>(table, key, encoded);
    });
  }

  /** {@inheritDoc ClientStore.put} */
  async put<T>(table: StoreTable, key: string, value: T): Promise<void> {
    assertTable(table);
    assertKey(key);
    assertStorableValue(table, key, value);
    // Copied now (an async function runs synchronously up to its first await), so that changing
    // the value before this write's turn in the queue changes nothing.
    const copy = structuredCloneValue(value);
    return this.enqueue(async () => {
      const encoded = await encodeValue(copy, `key ${JSON.stringify(key)} in table ${table}`);
      const next = new Map(this.table(table)).set(key, encoded);
      await this.writeTable(table, next);
      this.tables.set(table, next);
    });
  }

  /** {@inheritDoc ClientStore.delete} */
  delete(table: StoreTable, key: string): Promise<void> {
    return this.enqueue(async () => {
      assertTable(table);
      assertKey(key);
      const current = this.table(table);
      if (!current.has(key)) return;
      const next = new Map(current);
      next.delete(key);
      await this.writeTable(table, next);
      this.tables.set(table, next);
    });
  }

  /** {@inheritDoc ClientStore.list} */
  list<T>(table: StoreTable, prefix?: string): Promise<[string, T][]> {
    return this.enqueue(async () => {
      assertTable(table);
      assertPrefix(prefix);
      const start = prefix ?? '';
      const found = [...this.table(table)].filter(([key]) => key.startsWith(start));
      found.sort(([a], [b]) => compareKeys(a, b));
      return Promise.all(
        found.map(async ([key, encoded]): Promise<[string, T]> => [key, await decode<T>(table, key, encoded)]),
      );
    });
  }

  /**
   * Deletes every table file, then the directory if nothing else is in it; the store is closed
   * afterwards. Deleting does not overwrite the disk blocks (on SSDs and journaling file systems
   * overwriting would not reach every copy anyway): only disk encryption protects old data from a
   * thief of the disk (threat model, "A thief of the disk").
   */
  wipe(): Promise<void> {
    return this.shutDown(async () => {
      for (const table of STORE_TABLES) await rm(this.file(table), { force: true });
      await removeTempFiles(this.directory);
      this.tables.clear();
      await this.lockFile.release();
      try {
        await rmdir(this.directory);
      } catch (error) {
        // Someone else's files are in the directory, or it is already gone: leave it.
        if (!hasCode(error, 'ENOTEMPTY', 'EEXIST', 'ENOENT')) throw error;
      }
    });
  }

  /** Waits for pending writes to reach the disk and releases the directory; the store is closed afterwards. Closing twice is fine. */
  close(): Promise<void> {
    return this.closed ? this.queue : this.shutDown(() => this.lockFile.release());
  }

  private shutDown(finish: () => Promise<void>): Promise<void> {
    const result = this.enqueue(finish);
    // Closed at once, not when the queue reaches us: later calls must not sneak in behind.
    this.closed = true;
    return result;
  }

  private enqueue<R>(operation: () => Promise<R>): Promise<R> {
    if (this.closed) return Promise.reject(new StoreClosedError('the file store was closed or wiped'));
    const result = this.queue.then(operation);
    this.queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  private table(table: StoreTable): Table {
    const entries = this.tables.get(table);
    if (entries === undefined) throw new Error(`file store has no table ${table}`);
    return entries;
  }

  private file(table: StoreTable): string {
    return join(this.directory, `${table}.json`);
  }

  private async writeTable(table: StoreTable, entries: Table): Promise<void> {
    const file = this.file(table);
    if (entries.size === 0) {
      // An absent file reads as an empty table; removing it is as atomic as a rename.
      await rm(file, { force: true });
    } else {
      const sorted = [...entries].sort(([a], [b]) => compareKeys(a, b));
      const text = JSON.stringify({ format: FILE_FORMAT, version: FILE_VERSION, table, entries: sorted }) + '\n';
      const temp = `${file}.${randomUUID()}.tmp`;
      try {
        const handle = await open(temp, 'wx', FILE_MODE);
        try {
          await handle.writeFile(text, 'utf8');
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, file);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
    }
    await syncDirectory(this.directory);
  }
}

async function loadTable(directory: string, table: StoreTable): Promise<Table> {
  const file = join(directory, `${table}.json`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return new Map();
    throw error;
  }
  const corrupt = (problem: string, cause?: unknown): StoreCorruptError =>
    new StoreCorruptError(
      `cannot open the file store: ${file} ${problem}; ` +
        'it was left untouched (restore it from a backup, or wipe the store)',
      cause === undefined ? undefined : { cause },
    );
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw corrupt('is not valid JSON', error);
  }
  if (typeof data !== 'object' || data === null) throw corrupt('is not a store file');
  const { format, version, table: named, entries } = data as Record<string, unknown>;
  if (format !== FILE_FORMAT) throw corrupt('is not a store file');
  if (version !== FILE_VERSION) throw corrupt(`has version ${String(version)}, expected ${FILE_VERSION}`);
  if (named !== table) throw corrupt(`holds table ${String(named)}`);
  if (!Array.isArray(entries)) throw corrupt('has no entries');
  const result: Table = new Map();
  for (const [index, entry] of entries.entries()) {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') {
      throw corrupt(`has a malformed entry at index ${index}`);
    }
    const [key, value] = entry as [string, unknown];
    if (result.has(key)) throw corrupt(`has key ${JSON.stringify(key)} twice`);
    const problem = checkEncodedValue(value);
    if (problem !== null) throw corrupt(`has a malformed value for key ${JSON.stringify(key)}: ${problem}`);
    result.set(key, value as EncodedValue);
  }
  return result;
}

async function decode<T>(table: StoreTable, key: string, encoded: EncodedValue): Promise<T> {
  try {
    return (await decodeValue(encoded)) as T;
  } catch (error) {
    // The file was well formed when loaded, so only a key WebCrypto refuses to import gets here.
    throw new StoreCorruptError(`cannot read key ${JSON.stringify(key)} in table ${table} of the file store`, {
      cause: error,
    });
  }
}

async function removeTempFiles(directory: string): Promise<void> {
  for (const name of await readdir(directory)) {
    if (TEMP_FILE.test(name)) await rm(join(directory, name), { force: true });
  }
}

/** Makes a rename or removal in `directory` durable (POSIX needs the directory itself flushed). */
async function syncDirectory(directory: string): Promise<void> {
  let handle;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch (error) {
    // Windows cannot open or flush a directory; NTFS journals the rename itself.
    if (!hasCode(error, 'EISDIR', 'EPERM', 'EINVAL')) throw error;
  } finally {
    await handle?.close();
  }
}

function hasCode(error: unknown, ...codes: string[]): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && codes.includes(code);
}
