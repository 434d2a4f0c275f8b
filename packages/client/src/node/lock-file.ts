/**
 * The file store's exclusive lock file, `device.lock` in its directory (SPEC DEVICE-1).
 *
 * A file store loads its tables into memory and rewrites whole files, so two processes on one
 * directory would not only fork the ratchets, each would also overwrite the other's writes. The
 * lock is taken when the store opens and released when it closes or is wiped.
 *
 * The lock is written whole to a temporary file and then hard-linked to its name, which fails if
 * the name exists: of two processes starting at once exactly one gets it, and no process ever
 * reads a lock half written (one that looked unreadable could be taken for stale). It names the
 * process that holds it (host and pid): a lock whose process is gone (killed, crashed) is stale
 * and taken over; one whose process is alive on this host is refused with `DeviceInUseError`. A
 * lock from another host (a directory shared over the network) is never judged stale: it is
 * refused, and the message names the file to remove by hand.
 *
 * Taking over a stale lock is check-then-remove, so it runs under a guard (a directory made with
 * `mkdir`, which only one process can make): otherwise a process that judged the old lock stale
 * could remove the fresh one another process made meanwhile. A guard left by a process killed
 * inside that millisecond section is removed once it is older than GUARD_STALE_MS.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DeviceInUseError } from '../device-lock.js';

/** The lock file's name inside the store's directory. */
export const LOCK_FILE = 'device.lock';

interface LockContent {
  readonly pid: number;
  readonly host: string;
  /** Tells this holder's lock from a later one of the same pid. */
  readonly token: string;
}

/** Tokens of the lock files this process holds now: a file naming our pid but none of these is stale. */
const heldHere = new Set<string>();

/** A held lock file. */
export interface HeldLockFile {
  /** Removes the file if it is still ours. Calling it again does nothing. */
  release(): Promise<void>;
}

/** A guard older than this was left by a process that died while holding it. */
const GUARD_STALE_MS = 10_000;
/** Tries to take the lock: once, and again after each stale lock removed or guard waited for. */
const ATTEMPTS = 4;

/** Takes the lock file of `directory`, taking over a stale one; `DeviceInUseError` if it is held. */
export async function takeLockFile(directory: string): Promise<HeldLockFile> {
  const file = join(directory, LOCK_FILE);
  const ours: LockContent = { pid: process.pid, host: hostname(), token: randomUUID() };
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (await createLock(file, ours)) {
      heldHere.add(ours.token);
      return {
        release: once(async () => {
          await releaseIfOurs(file, ours.token);
          heldHere.delete(ours.token);
        }),
      };
    }
    const holder = await readLock(file);
    if (holder !== null && !isStale(holder)) {
      throw new DeviceInUseError(
        `another process (pid ${holder.pid} on ${holder.host}) is using this device; if it is not running, remove ${file}`,
      );
    }
    // Stale, unreadable (damaged) or gone already: remove it if it still is the one we judged.
    await removeStale(file, holder);
  }
  throw new DeviceInUseError(`another process took ${file} while this one was starting`);
}

/** Creates `file` holding `content`, whole, or returns false if it exists. */
async function createLock(file: string, content: LockContent): Promise<boolean> {
  const temporary = `${file}.${content.token}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(JSON.stringify(content));
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temporary, file);
    return true;
  } catch (error) {
    if (hasCode(error, 'EEXIST')) return false;
    throw error;
  } finally {
    await rm(temporary, { force: true });
  }
}

/** Removes the lock at `file` if it still is `judged` (`null`: unreadable or absent), under the guard. */
async function removeStale(file: string, judged: LockContent | null): Promise<void> {
  const guard = `${file}.guard`;
  try {
    await mkdir(guard, { mode: 0o700 });
  } catch (error) {
    if (!hasCode(error, 'EEXIST')) throw error;
    // Another process is taking over right now; or one died doing so, long enough ago to tell.
    const made = await stat(guard).then((entry) => entry.mtimeMs, () => null);
    if (made !== null && Date.now() - made > GUARD_STALE_MS) await rm(guard, { recursive: true, force: true });
    else await new Promise((resolve) => setTimeout(resolve, 20));
    return;
  }
  try {
    // Only the lock we judged, or a damaged one: while either holds the name nobody can create
    // a fresh lock, so nothing else is removed. An absent one is left to the next attempt.
    const now = await lockState(file);
    const same = typeof now === 'string' ? now === 'damaged' && judged === null : now.token === judged?.token;
    if (same) await rm(file, { force: true });
  } finally {
    await rm(guard, { recursive: true, force: true });
  }
}

function isStale(holder: LockContent): boolean {
  if (holder.host !== hostname()) return false;
  // Our own pid: another store of this process holds it, or a process before us had our pid.
  if (holder.pid === process.pid) return !heldHere.has(holder.token);
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    // ESRCH: no such process. EPERM: it exists but belongs to someone else: alive.
    return hasCode(error, 'ESRCH');
  }
}

/** The lock at `file`; `null` if it is absent or damaged. */
async function readLock(file: string): Promise<LockContent | null> {
  const state = await lockState(file);
  return typeof state === 'string' ? null : state;
}

async function lockState(file: string): Promise<LockContent | 'absent' | 'damaged'> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return 'absent';
    throw error;
  }
  try {
    const { pid, host, token } = (JSON.parse(text) ?? {}) as Record<string, unknown>;
    if (typeof pid === 'number' && typeof host === 'string' && typeof token === 'string') return { pid, host, token };
  } catch {
    // Not JSON: damaged.
  }
  return 'damaged';
}

async function releaseIfOurs(file: string, token: string): Promise<void> {
  if ((await readLock(file))?.token === token) await rm(file, { force: true });
}

function once(action: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | null = null;
  return () => (done ??= action());
}

function hasCode(error: unknown, ...codes: string[]): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && codes.includes(code);
}
