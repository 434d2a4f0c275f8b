import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DialectKind } from './database.js';
import { INITIAL_MIGRATION, MigrationError, migrateTo } from './migrations.js';
import { openSqliteDatabase, sqliteDialect } from './open-sqlite-store.js';
import { SQLITE_FILE_NAME, openStore } from './open-store.js';
import { describeStoreContract, type OpenFromPrevious } from './store.contract.js';

let root: string;
let stores = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pairwise-sqlite-store-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A file at the first migration, seeded, then opened (and so migrated) the way the server opens it. */
const openFromPrevious: OpenFromPrevious = async (seed) => {
  const dataDir = join(root, `previous-${stores++}`);
  await mkdir(dataDir);
  const db = new Kysely<unknown>({ dialect: sqliteDialect(openSqliteDatabase(join(dataDir, SQLITE_FILE_NAME))) });
  try {
    await migrateTo(db, DialectKind.Sqlite, null, INITIAL_MIGRATION);
    await seed(db);
  } finally {
    await db.destroy();
  }
  return openStore({ databaseUrl: null, dataDir });
};

// A fresh file per test, through the same path the server takes.
describeStoreContract('sqlite', () => openStore({ databaseUrl: null, dataDir: join(root, `contract-${stores++}`) }), openFromPrevious);

describe('SQLite store', () => {
  const account = {
    accountId: 'alice',
    identityKey: new Uint8Array(32).fill(1),
    deviceList: { body: new Uint8Array([1, 2, 3]), signature: new Uint8Array(64).fill(2) },
    deviceListVersion: 1,
    deviceListExpiresAt: 1_800_000_000_000,
    createdAt: 1_700_000_000_000,
  };
  const device = {
    deviceId: 'a'.repeat(32),
    accountId: 'alice',
    kind: 'primary' as const,
    signingKey: new Uint8Array(32).fill(3),
    agreementKey: new Uint8Array(32).fill(4),
    name: 'Phone',
    linkedAt: 1_700_000_000_000,
    lastActiveAt: 1_700_000_040_000,
    temporary: false,
    userAgent: '',
    network: '',
    disconnectedAt: null,
    attestation: new Uint8Array(64).fill(5),
  };

  it('creates the data directory and keeps data across a reopen', async () => {
    const dataDir = join(root, 'reopen', 'nested');
    const logged: string[] = [];
    const logger = { info: (_: object, message: string) => logged.push(message), warn: () => {}, error: () => {} };
    const first = await openStore({ databaseUrl: null, dataDir, logger });
    expect(first.kind).toBe('sqlite');
    expect(await first.createAccount({ account, device, preKeys: { signedPreKey: null, pqPreKey: null, oneTimePreKeys: [], pqOneTimePreKeys: [] } })).toBe('created');
    await first.close();
    expect((await stat(join(dataDir, SQLITE_FILE_NAME))).isFile()).toBe(true);
    expect(logged).toContain('store migration applied');

    logged.length = 0;
    const second = await openStore({ databaseUrl: null, dataDir, logger });
    expect(await second.getAccount('alice')).toEqual(account);
    expect((await second.getDevice(device.deviceId))?.lastActiveAt).toBe(1_700_000_040_000);
    await second.close();
    // Already migrated: nothing to apply the second time.
    expect(logged).not.toContain('store migration applied');
  });

  it('opens the file with WAL, synchronous=FULL, foreign keys on and a busy timeout', () => {
    const database = openSqliteDatabase(join(root, 'pragmas.sqlite'));
    try {
      expect(database.pragma('journal_mode', { simple: true })).toBe('wal');
      // 2 is FULL: every commit is synced to disk before it returns.
      expect(database.pragma('synchronous', { simple: true })).toBe(2);
      expect(database.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(database.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0);
    } finally {
      database.close();
    }
  });

  it('[SSTORE-39] a migration that fails leaves the schema as it was, and a later open applies it whole', async () => {
    const dataDir = join(root, 'failed-migration');
    await mkdir(dataDir);
    const file = join(dataDir, SQLITE_FILE_NAME);
    const withRaw = async (work: (db: Kysely<unknown>) => Promise<void>) => {
      const db = new Kysely<unknown>({ dialect: sqliteDialect(openSqliteDatabase(file)) });
      try {
        await work(db);
      } finally {
        await db.destroy();
      }
    };
    const deviceColumns = async () => {
      let names: string[] = [];
      await withRaw(async (db) => {
        const { rows } = await sql<{ name: string }>`select name from pragma_table_info('devices')`.execute(db);
        names = rows.map((row) => row.name);
      });
      return names;
    };
    // A table in the way of the second migration's last steps, after it has altered devices.
    await withRaw(async (db) => {
      await migrateTo(db, DialectKind.Sqlite, null, INITIAL_MIGRATION);
      await sql`create table security_events (in_the_way integer)`.execute(db);
    });
    await expect(openStore({ databaseUrl: null, dataDir })).rejects.toThrow(MigrationError);
    expect(await deviceColumns()).not.toContain('temporary');

    await withRaw(async (db) => {
      await sql`drop table security_events`.execute(db);
    });
    const store = await openStore({ databaseUrl: null, dataDir });
    await store.close();
    expect(await deviceColumns()).toEqual(expect.arrayContaining(['temporary', 'user_agent', 'network', 'disconnected_at']));
  });

  it('runs in memory when asked to', async () => {
    const store = await openStore({ databaseUrl: null, dataDir: ':memory:' });
    expect(await store.createAccount({ account, device, preKeys: { signedPreKey: null, pqPreKey: null, oneTimePreKeys: [], pqOneTimePreKeys: [] } })).toBe('created');
    expect(await store.listDevices('alice')).toHaveLength(1);
    await store.close();
  });
});
