/**
 * Making a written file survive a power cut: its data synced, then the directory that names it.
 * Without the second step a rename (or a new file) can vanish after a crash even though the
 * bytes reached the disk.
 * @module
 */
import { open } from 'node:fs/promises';

/** Flushes `path` (a file or a directory) to the disk. */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
