import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DialectKind } from '../store/database.js';
import { INITIAL_MIGRATION, migrateTo } from '../store/migrations.js';
import { openPostgresStore } from '../store/open-postgres-store.js';
import { openSqliteDatabase, sqliteDialect } from '../store/open-sqlite-store.js';
import { openStore, SQLITE_FILE_NAME } from '../store/open-store.js';
import {
  expectFilledSnapshot,
  fixtureMessage,
  FIXTURE_T0,
  populateInstallation,
  snapshotInstallation,
  type InstallationFacts,
  type InstallationSnapshot,
} from '../test-support/installation-fixture.js';
import { AdminError } from './admin-error.js';
import { COPIED_TABLES, moveToPostgres } from './move-to-postgres.js';
import { rejection } from '../test-support/rejection.js';

const databaseUrl = process.env.DATABASE_URL?.trim() || null;

if (databaseUrl === null) {
  if (process.env.CI === 'true') {
    describe('[OPS-6] move to PostgreSQL', () => {
      it('runs under CI', () => {
        throw new Error('DATABASE_URL is required under CI=true: the move to PostgreSQL must be tested there');
      });
    });
  } else {
    console.warn('move-to-postgres.test.ts: DATABASE_URL is not set, so the move to PostgreSQL is SKIPPED');
    describe.skip('[OPS-6] move to PostgreSQL: needs DATABASE_URL', () => {
      it('moves an installation', () => {});
    });
  }
} else {
  describeMove(databaseUrl);
}

function describeMove(url: string): void {
  // Each test moves into a schema of its own, named after this run, all dropped at the end: runs
  // on a shared database neither see nor disturb each other.
  const run = `move_${randomBytes(4).toString('hex')}`;
  const schemas: string[] = [];
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  let root: string;
  let dirs = 0;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'pairwise-move-'));
  });
  afterAll(async () => {
    try {
      for (const schema of schemas) await admin.query(`drop schema if exists ${schema} cascade`);
    } finally {
      await admin.end();
      await rm(root, { recursive: true, force: true });
    }
  });

  /** A fresh, empty schema, and the URL that makes it the current one (as an operator would). */
  async function freshTarget(): Promise<{ schema: string; url: string }> {
    const schema = `${run}_${schemas.length}`;
    schemas.push(schema);
    await admin.query(`create schema ${schema}`);
    const target = new URL(url);
    target.searchParams.set('options', `-c search_path=${schema}`);
    return { schema, url: target.href };
  }

  async function rowsIn(schema: string, table: string): Promise<number> {
    const exists = await admin.query('select 1 from information_schema.tables where table_schema = $1 and table_name = $2', [schema, table]);
    if (exists.rowCount === 0) return 0;
    return Number((await admin.query<{ n: string }>(`select count(*) as n from ${schema}.${table}`)).rows[0]!.n);
  }

  /** An SQLite installation holding the fixture, closed, with its snapshot. */
  async function installation(): Promise<{ dataDir: string; facts: InstallationFacts; snapshot: InstallationSnapshot }> {
    const dataDir = join(root, `data-${dirs++}`);
    const store = await openStore({ databaseUrl: null, dataDir });
    try {
      const facts = await populateInstallation(store);
      const snapshot = await snapshotInstallation(store, facts);
      expectFilledSnapshot(snapshot);
      return { dataDir, facts, snapshot };
    } finally {
      await store.close();
    }
  }

  describe('[OPS-6] move to PostgreSQL', () => {
    it('copies every row, bytes, integers and flags alike, so that the PostgreSQL store reads what the SQLite one did', async () => {
      const { dataDir, facts, snapshot } = await installation();
      const target = await freshTarget();
      const report = await moveToPostgres({ dataDir, databaseUrl: target.url });
      expect(report.target).toEqual({ host: new URL(url).host, database: new URL(url).pathname.slice(1), schema: target.schema });
      const counts = Object.fromEntries(report.tables.map(({ table, rows }) => [table, rows]));
      expect(Object.keys(counts).sort()).toEqual([...COPIED_TABLES].sort());
      expect(counts).toMatchObject({ accounts: 2, devices: 3, inbox: 6, account_security: 2, security_events: 2, pending_links: 1, sent_messages: 4 });
      for (const { table, rows } of report.tables) expect(await rowsIn(target.schema, table)).toBe(rows);

      const moved = await openPostgresStore({ connectionString: url, searchPath: target.schema });
      try {
        expect(await snapshotInstallation(moved, facts)).toEqual(snapshot);
        // Prekeys: the one-time prekey handed out is the one uploaded, to the byte.
        const [bundle] = await moved.takeBundles(facts.bobPrimary.accountId);
        expect(bundle!.signedPreKey).toEqual(facts.bobPreKeys.signedPreKey);
        expect(bundle!.pqPreKey).toEqual(facts.bobPreKeys.pqOneTimePreKeys[0]);
        expect(bundle!.oneTimePreKey).toEqual(facts.bobPreKeys.oneTimePreKeys[0]);

        // New rows get seqs past every one SQLite gave out, the acknowledged ones included.
        const sent = await moved.enqueue(fixtureMessage(facts.alicePrimary, facts.bobPrimary.accountId, [facts.bobPrimary.deviceId, facts.companion.deviceId], FIXTURE_T0 + 100));
        expect(sent.status).toBe('accepted');
        if (sent.status !== 'accepted') return;
        expect(Math.min(...sent.seqs.map((row) => row.seq))).toBeGreaterThan(facts.highestSeq);
        await moved.addSecurityEvent({ accountId: facts.alicePrimary.accountId, at: FIXTURE_T0 + 100, kind: 'pin-failed', deviceId: '', deviceName: '', actor: '', network: '' });
        expect(await moved.listSecurityEvents(facts.alicePrimary.accountId, 10)).toHaveLength(3);
      } finally {
        await moved.close();
      }

      // The SQLite installation is left as it was, a fallback.
      const left = await openStore({ databaseUrl: null, dataDir });
      try {
        expect(await snapshotInstallation(left, facts)).toEqual(snapshot);
      } finally {
        await left.close();
      }
    });

    it('refuses a target that already holds accounts, writing nothing', async () => {
      const first = await installation();
      const target = await freshTarget();
      await moveToPostgres({ dataDir: first.dataDir, databaseUrl: target.url });
      const second = await installation();
      const error = await rejection(moveToPostgres({ dataDir: second.dataDir, databaseUrl: target.url }));
      expect(error).toBeInstanceOf(AdminError);
      expect(error.message).toMatch(/already holds data \(rows: 2 in accounts/);
      expect(await rowsIn(target.schema, 'accounts')).toBe(2);
      expect(await rowsIn(target.schema, 'inbox')).toBe(6);
    });

    it('is one transaction: a row that cannot be moved leaves the target without any row', async () => {
      const { dataDir } = await installation();
      // Text where bytes belong, as only something other than Pairwise could have written.
      const db = new Sqlite(join(dataDir, SQLITE_FILE_NAME));
      db.prepare("update inbox set content = 'not bytes' where seq = (select max(seq) from inbox)").run();
      db.close();
      const target = await freshTarget();
      const error = await rejection(moveToPostgres({ dataDir, databaseUrl: target.url }));
      expect(error).toBeInstanceOf(AdminError);
      expect(error.message).toMatch(/inbox\.content, row 6 holds text where PostgreSQL expects bytes/);
      expect(error.message).not.toContain('not bytes');
      for (const table of COPIED_TABLES) expect(await rowsIn(target.schema, table)).toBe(0);
    });

    it('refuses while a store is open on the SQLite file', async () => {
      const { dataDir } = await installation();
      const running = await openStore({ databaseUrl: null, dataDir });
      try {
        const target = await freshTarget();
        const error = await rejection(moveToPostgres({ dataDir, databaseUrl: target.url }));
        expect(error).toBeInstanceOf(AdminError);
        expect(error.message).toMatch(/is in use.*stop the server first/);
        expect(await rowsIn(target.schema, 'accounts')).toBe(0);
      } finally {
        await running.close();
      }
    });

    it('refuses an installation of an older schema, asking for the server to migrate it first', async () => {
      const dataDir = join(root, `old-${dirs++}`);
      await mkdir(dataDir);
      const db = new Kysely<unknown>({ dialect: sqliteDialect(openSqliteDatabase(join(dataDir, SQLITE_FILE_NAME))) });
      await migrateTo(db, DialectKind.Sqlite, null, INITIAL_MIGRATION);
      await db.destroy();
      const target = await freshTarget();
      const error = await rejection(moveToPostgres({ dataDir, databaseUrl: target.url }));
      expect(error).toBeInstanceOf(AdminError);
      expect(error.message).toMatch(/older than this release's .*start this release of the server on it once/);
    });
  });
}
