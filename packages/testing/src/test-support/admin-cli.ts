/**
 * Runs the built `pairwise-admin` command line (packages/server/dist/admin/cli.js) as an
 * operator would: a child process of its own, with only the settings given, so that the tests see
 * its exit status and output and the locks it takes are another process's.
 * @module
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ADMIN_CLI = join(dirname(fileURLToPath(import.meta.url)), '../../../server/dist/admin/cli.js');

/** How a run ended and what it printed. */
export interface AdminRun {
  /** The exit status (null if a signal ended it). */
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `pairwise-admin <args>` with `env` (and PATH) as its whole environment. */
export function runAdminCli(args: readonly string[], env: Record<string, string>): Promise<AdminRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ADMIN_CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}
