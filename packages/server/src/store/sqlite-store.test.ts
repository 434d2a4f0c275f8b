import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DialectKind, type Database } from './database.js';
import { DAY_MS } from '@pairwise/protocol/limits';
import { ConnectionLock } from './connection-lock.js';
import { KyselyStore } from './kysely-store.js';
import { SqliteSendPath } from './sqlite-send-path.js';
import { INITIAL_MIGRATION, MigrationError, migrateTo, migrateToLatest } from './migrations.js';
import { openSqliteDatabase, sqliteDialect } from './open-sqlite-store.js';
import { SQLITE_FILE_NAME, openStore } from './open-store.js';
import type { EnqueueInput } from './store.js';
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

  /** Alice and Bob, one attested primary each, on a store opened the way openSqliteStore opens one, with its Kysely handle. */
  async function twoAccounts(file: string) {
    const database = openSqliteDatabase(file);
    const lock = new ConnectionLock();
    const db = new Kysely<Database>({ dialect: sqliteDialect(database, lock) });
    await migrateToLatest(db, DialectKind.Sqlite, null, null);
    const store = new KyselyStore(db, DialectKind.Sqlite, new SqliteSendPath(database, lock));
    const bobDevice = { ...device, deviceId: 'b'.repeat(32), accountId: 'bob' };
    const noPreKeys = { signedPreKey: null, pqPreKey: null, oneTimePreKeys: [], pqOneTimePreKeys: [] };
    expect(await store.createAccount({ account, device, preKeys: noPreKeys })).toBe('created');
    expect(await store.createAccount({ account: { ...account, accountId: 'bob' }, device: bobDevice, preKeys: noPreKeys })).toBe('created');
    let sends = 0;
    const send = (): EnqueueInput => ({
      senderAccountId: 'alice',
      senderDeviceId: device.deviceId,
      recipientAccountId: 'bob',
      clientMessageId: new Uint8Array(16).fill(++sends),
      envelopes: [{ deviceId: bobDevice.deviceId, content: new Uint8Array([sends]) }],
      now: account.createdAt + sends,
      expiresAt: account.createdAt + DAY_MS,
    });
    return { db, store, send, bob: bobDevice.deviceId };
  }

  it('[SSTORE-50] sends made at once share one commit', async () => {
    const { store, send } = await twoAccounts(join(root, 'group-commit.sqlite'));
    const commits: number[] = [];
    store.observeCommits((sends) => commits.push(sends));
    const results = await Promise.all(Array.from({ length: 6 }, () => store.enqueue(send())));
    expect(results.map((result) => result.status)).toEqual(Array(6).fill('accepted'));
    expect(commits).toEqual([6]);
    await store.close();
  });

  it('[SSTORE-53] runs the message path between Kysely transactions, never inside one', async () => {
    const { db, store, send, bob } = await twoAccounts(join(root, 'exclusive.sqlite'));
    const order: string[] = [];
    let sent: Promise<unknown> = Promise.resolve();
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.updateTable('accounts').set({ created_at: 1 }).where('account_id', '=', 'bob').execute();
        sent = store.enqueue(send()).then((result) => order.push(`send ${result.status}`));
        await new Promise((resolve) => setTimeout(resolve, 50));
        order.push('transaction rolled back');
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    await sent;
    // Had the send joined the open transaction, the rollback would have taken its row too.
    expect(order).toEqual(['transaction rolled back', 'send accepted']);
    expect(await store.readInbox(bob, 0, 10)).toHaveLength(1);
    expect((await store.getAccount('bob'))?.createdAt).toBe(account.createdAt);
    await store.close();
  });

  it('runs in memory when asked to', async () => {
    const store = await openStore({ databaseUrl: null, dataDir: ':memory:' });
    expect(await store.createAccount({ account, device, preKeys: { signedPreKey: null, pqPreKey: null, oneTimePreKeys: [], pqOneTimePreKeys: [] } })).toBe('created');
    expect(await store.listDevices('alice')).toHaveLength(1);
    await store.close();
  });
});
