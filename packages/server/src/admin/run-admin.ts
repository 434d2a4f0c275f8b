/**
 * The `pairwise-admin` command line: parses the arguments, reads the configuration the way the
 * server does (the same DATA_DIR and DATABASE_URL), runs one command and prints what it did.
 *
 * What it prints is for an operator's terminal and logs: paths, counts, sizes and schema
 * versions, never message contents, keys, tokens, account names or the database URL (it may hold
 * a password).
 * @module
 */
import { ConfigError, parseConfig, type Config } from '../config.js';
import { AdminError, UsageError } from './admin-error.js';
import { backup } from './backup.js';
import { formatSummary } from './inspect-sqlite.js';
import { moveToPostgres } from './move-to-postgres.js';
import { restore } from './restore.js';

/** Where the command's lines go: `out` for results, `err` for errors. */
export interface AdminOutput {
  out(line: string): void;
  err(line: string): void;
}

/** The commands, each with the arguments it takes. */
export const USAGE = [
  'usage: pairwise-admin <command>',
  '  backup <file>      copy the SQLite store in DATA_DIR to <file>, while the server runs',
  '  restore <file>     put a backup in place of the store in DATA_DIR (the server must be stopped)',
  '  move-to-postgres   copy the SQLite store in DATA_DIR into the empty PostgreSQL database at DATABASE_URL (the server must be stopped)',
  'Settings come from the environment, as for the server: DATA_DIR, DATABASE_URL.',
].join('\n');

/** Runs the command in `argv` (arguments after the program name); resolves to the exit status. */
export async function runAdmin(argv: readonly string[], env: NodeJS.ProcessEnv, output: AdminOutput, now: () => Date = () => new Date()): Promise<number> {
  try {
    await run(argv, env, output, now);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      output.err(`pairwise-admin: ${error.message}`);
      if (error instanceof UsageError) output.err(USAGE);
      return 2;
    }
    if (error instanceof AdminError) {
      output.err(`pairwise-admin: ${error.message}`);
      return 1;
    }
    output.err(`pairwise-admin: failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

async function run(argv: readonly string[], env: NodeJS.ProcessEnv, output: AdminOutput, now: () => Date): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError('no command given');
  if (command === 'help' || command === '--help' || command === '-h') {
    output.out(USAGE);
    return;
  }
  switch (command) {
    case 'backup': {
      const file = oneFile(command, rest);
      const config = sqliteConfig(env, command);
      const report = await backup({ dataDir: config.dataDir, file });
      output.out(`Backed up ${report.source} to ${report.file}`);
      for (const line of formatSummary(report.summary, report.bytes)) output.out(line);
      return;
    }
    case 'restore': {
      const file = oneFile(command, rest);
      const config = sqliteConfig(env, command);
      const report = await restore({ dataDir: config.dataDir, file, now: now() });
      output.out(`Restored ${file} as ${report.store}`);
      for (const line of formatSummary(report.summary, report.bytes)) output.out(line);
      output.out(report.replacedKeptAs === null ? 'There was no database to replace.' : `The replaced database is kept as ${report.replacedKeptAs}`);
      output.out('Start the server. Everything is as it was when the backup was taken: see "Backups" in docs/operations.md for what that means for devices.');
      return;
    }
    case 'move-to-postgres': {
      if (rest.length > 0) throw new UsageError('move-to-postgres takes no arguments (the target is DATABASE_URL)');
      const config = parseConfig(env);
      if (config.databaseUrl === null) throw new UsageError('move-to-postgres needs DATABASE_URL: the empty PostgreSQL database to move into');
      const report = await moveToPostgres({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
      const { host, database, schema } = report.target;
      output.out(`Moved ${report.source} into PostgreSQL (host ${host}, database ${database}, schema ${schema}):`);
      for (const { table, rows } of report.tables) output.out(`  ${table}: ${rows} rows`);
      output.out(`Start the server with DATABASE_URL set. Keep ${report.source} until you are satisfied; the server no longer uses it.`);
      return;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

function oneFile(command: string, rest: readonly string[]): string {
  const [file, ...extra] = rest;
  if (file === undefined || file === '') throw new UsageError(`${command} needs a file name`);
  if (extra.length > 0) throw new UsageError(`${command} takes one file name, got ${rest.length} arguments`);
  return file;
}

/** The configuration, for a command that works on the embedded SQLite store only. */
function sqliteConfig(env: NodeJS.ProcessEnv, command: string): Config {
  const config = parseConfig(env);
  if (config.databaseUrl !== null) {
    throw new UsageError(`${command} works on the embedded SQLite store, but DATABASE_URL is set: for PostgreSQL use its own tools (pg_dump, base backups)`);
  }
  return config;
}
