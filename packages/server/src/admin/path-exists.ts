/**
 * Whether a path exists, for the admin commands' checks before they act. A check is only
 * advice (the file can appear a moment later): the commands create with O_EXCL and rename
 * under a lock where it matters.
 * @module
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';

/** True when something exists at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  return access(path, constants.F_OK).then(
    () => true,
    () => false,
  );
}
