import { afterAll, beforeAll } from 'vitest';
import { removeDataDir, startServerProcess, type ServerProcess, type ServerProcessOptions } from '../server-process.js';

/**
 * Starts a server before a test file's tests and stops it (and removes its data) after them.
 * The file keeps the handle in its own variable (`bind`), since tests may restart the server.
 *
 * @example
 * ```ts
 * let server: ServerProcess;
 * useServerProcess({ get: () => server, set: (started) => (server = started) });
 * ```
 */
export function useServerProcess(
  bind: { get: () => ServerProcess; set: (server: ServerProcess) => void },
  options: ServerProcessOptions = {},
): void {
  beforeAll(async () => bind.set(await startServerProcess(options)));
  afterAll(async () => {
    const server = bind.get();
    await server.stop();
    removeDataDir(server);
  });
}
