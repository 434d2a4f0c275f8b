/**
 * The file store's exclusive lock file, `device.lock` in its directory (SPEC DEVICE-1).
 *
 * A file store loads its tables into memory and rewrites whole files, so two processes on one
 * directory would not only fork the ratchets, each would also overwrite the other's writes. The
 * lock is taken when the store opens and released when it closes or is wiped.
 *
 * The file is created with O_EXCL, so of two processes starting at once exactly one gets it. It
 * names the process that holds it (host and pid): a lock whose process is gone (killed, crashed)
 * is stale and taken over; one whose process is alive on this host is refused with
 * `DeviceInUseError`. A lock from another host (a directory shared over the network) is never
 * judged stale: it is refused, and the message names the file to remove by hand.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { open, readFile, rm } from 'node:fs/promises';
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

/** Takes the lock file of `directory`, taking over a stale one; `DeviceInUseError` if it is held. */
export async function takeLockFile(directory: string): Promise<HeldLockFile> {
  const file = join(directory, LOCK_FILE);
  const ours: LockContent = { pid: process.pid, host: hostname(), token: randomUUID() };
  // Twice at most: once, and once more after removing a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      try {
        await handle.writeFile(JSON.stringify(ours));
        await handle.sync();
      } finally {
        await handle.close();
      }
      heldHere.add(ours.token);
      return {
        release: once(async () => {
          await releaseIfOurs(file, ours.token);
          heldHere.delete(ours.token);
        }),
      };
    } catch (error) {
      if (!hasCode(error, 'EEXIST')) throw error;
    }
    const holder = await readLock(file);
    if (holder !== null && !isStale(holder)) {
      throw new DeviceInUseError(
        `another process (pid ${holder.pid} on ${holder.host}) is using this device; if it is not running, remove ${file}`,
      );
    }
    // Stale (or unreadable: a holder killed between creating and writing it). Removed only if it
    // still is the lock we judged, so that one taken meanwhile by a live process stays.
    if ((await readLock(file))?.token === holder?.token) await rm(file, { force: true });
  }
  throw new DeviceInUseError(`another process took ${file} while this one was starting`);
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

async function readLock(file: string): Promise<LockContent | null> {
  try {
    const value: unknown = JSON.parse(await readFile(file, 'utf8'));
    const { pid, host, token } = (value ?? {}) as Record<string, unknown>;
    if (typeof pid === 'number' && typeof host === 'string' && typeof token === 'string') return { pid, host, token };
    return null;
  } catch {
    return null;
  }
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
