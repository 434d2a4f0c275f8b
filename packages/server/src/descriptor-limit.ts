/**
 * The process's limit on open files, from /proc (Linux). Every socket is a file descriptor: the
 * sockets not yet signed in are bounded (SPEC LIMIT-4), and the rest of the limit is what signed-in
 * devices reconnect with, so a limit that leaves little room is worth a warning at start.
 * @module
 */
import { readFileSync } from 'node:fs';

/** Descriptors kept for the database, logs, HTTP requests and the like, beyond the sockets. */
export const DESCRIPTOR_MARGIN = 1024;

/** The soft "Max open files" of this process, or null where /proc does not say (not Linux). */
export function openFileLimit(limitsText?: string): number | null {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return null;
    }
  }
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(text);
  if (!match?.[1]) return null;
  return match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
}

/** Why the limit leaves too little room for devices, or null when it is enough or unknown. */
export function descriptorWarning(limit: number | null, pendingConnections: number): string | null {
  if (limit === null || limit >= pendingConnections + 2 * DESCRIPTOR_MARGIN) return null;
  return (
    `the process may open only ${limit} files, which leaves little room for signed-in devices beyond ` +
    `MAX_PENDING_CONNECTIONS (${pendingConnections}): raise it (LimitNOFILE=, ulimit -n) to your devices plus ${pendingConnections + DESCRIPTOR_MARGIN}`
  );
}
