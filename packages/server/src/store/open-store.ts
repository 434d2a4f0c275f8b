/**
 * Opens the store the configuration asks for: PostgreSQL when DATABASE_URL is set, otherwise
 * the embedded SQLite file in the data directory. Either way the schema is migrated first.
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openPostgresStore } from './open-postgres-store.js';
import { openSqliteStore } from './open-sqlite-store.js';
import type { StoreLogger } from './store-logger.js';
import type { Store } from './store.js';

/** The SQLite file's name inside the data directory. */
export const SQLITE_FILE_NAME = 'pairwise.sqlite';

/** What `openStore` needs from the configuration. */
export interface OpenStoreOptions {
  /** A postgres:// URL, or `null` for SQLite in `dataDir`. */
  readonly databaseUrl: string | null;
  /** Where the SQLite file lives (created if missing); `':memory:'` for a throw-away in-memory database. */
  readonly dataDir: string;
  readonly logger?: StoreLogger;
}

/** Opens and migrates the configured store. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const logger = options.logger ?? null;
  if (options.databaseUrl !== null) return openPostgresStore({ connectionString: options.databaseUrl, searchPath: null }, logger);
  if (options.dataDir === ':memory:') return openSqliteStore(':memory:', logger);
  // Owner-only: the database holds metadata (who talks to whom, IP addresses) if not content.
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  return openSqliteStore(join(options.dataDir, SQLITE_FILE_NAME), logger);
}
