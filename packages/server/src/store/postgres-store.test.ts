import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { DialectKind } from './database.js';
import { INITIAL_MIGRATION, MigrationError, migrateTo } from './migrations.js';
import { openPostgresStore } from './open-postgres-store.js';
import { openStore } from './open-store.js';
import { INBOX_LOCK_SEED } from './postgres-send-path.js';
import { describeStoreContract, type InboxWriterLock, type OpenFromPrevious } from './store.contract.js';

const databaseUrl = process.env.DATABASE_URL?.trim() || null;

if (databaseUrl === null) {
  if (process.env.CI === 'true') {
    describe('Store contract (postgres)', () => {
      it('runs under CI', () => {
        throw new Error('DATABASE_URL is required under CI=true: the PostgreSQL store contract must run there');
      });
    });
  } else {
    console.warn('postgres-store.test.ts: DATABASE_URL is not set, so the PostgreSQL store contract is SKIPPED');
    describe.skip('Store contract (postgres): needs DATABASE_URL', () => {
      it('runs against PostgreSQL', () => {});
    });
  }
} else {
  describePostgres(databaseUrl);
}

function describePostgres(url: string): void {
  // Every store gets its own schema, named after this run, all dropped at the end: runs on a
  // shared database neither see nor disturb each other.
  const run = `sstore_${randomBytes(4).toString('hex')}`;
  const schemas: string[] = [];
  const admin = new pg.Pool({ connectionString: url, max: 1 });

  async function freshSchema(): Promise<string> {
    const schema = `${run}_${schemas.length}`;
    schemas.push(schema);
    await admin.query(`create schema ${schema}`);
    return schema;
  }

  afterAll(async () => {
    try {
      for (const schema of schemas) await admin.query(`drop schema if exists ${schema} cascade`);
    } finally {
      await admin.end();
    }
  });

  /** A fresh schema at the first migration, seeded, then opened (and so migrated) by the store. */
  const openFromPrevious: OpenFromPrevious = async (seed) => {
    const schema = await freshSchema();
    const pool = new pg.Pool({ connectionString: url, options: `-c search_path=${schema}`, max: 1 });
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
    try {
      await migrateTo(db, DialectKind.Postgres, schema, INITIAL_MIGRATION);
      await seed(db);
    } finally {
      await db.destroy();
    }
    return openPostgresStore({ connectionString: url, searchPath: schema });
  };

  /** Holds a device's inbox-writer lock in a transaction of its own connection. */
  async function holdInboxWriterLock(deviceId: string): Promise<InboxWriterLock> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('begin');
    await client.query('select pg_advisory_xact_lock(hashtextextended($1, $2))', [deviceId, INBOX_LOCK_SEED]);
    return {
      async waiters() {
        const { rows } = await client.query<{ n: string }>(
          "select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and wait_event = 'advisory' and pid <> pg_backend_pid()",
        );
        return Number(rows[0]!.n);
      },
      async release() {
        await client.query('commit');
        await client.end();
      },
    };
  }

  describeStoreContract('postgres', async () => openPostgresStore({ connectionString: url, searchPath: await freshSchema() }), openFromPrevious, holdInboxWriterLock);

  describe('PostgreSQL store', () => {
    it('opens through openStore, honouring options in the URL, and logs no password', async () => {
      const schema = await freshSchema();
      const withPassword = new URL(url);
      // Trust authentication ignores the password; it is only there to prove it is never logged.
      withPassword.password = 'not-a-real-password';
      withPassword.searchParams.set('options', `-c search_path=${schema}`);
      const logged: string[] = [];
      const record = (fields: object, message: string) => logged.push(`${message} ${JSON.stringify(fields)}`);
      const store = await openStore({ databaseUrl: withPassword.href, dataDir: '/nonexistent', logger: { info: record, warn: record, error: record } });
      try {
        expect(store.kind).toBe('postgres');
        expect(await store.getAccount('nobody')).toBeNull();
      } finally {
        await store.close();
      }
      const tables = await admin.query<{ table_name: string }>('select table_name from information_schema.tables where table_schema = $1', [schema]);
      expect(tables.rows.map((row) => row.table_name)).toContain('inbox');
      expect(logged.join('\n')).toContain(schema);
      expect(logged.join('\n')).not.toContain('not-a-real-password');
    });

    it('[SSTORE-39] a migration that fails leaves the schema as it was, and a later open applies it whole', async () => {
      const schema = await freshSchema();
      const pool = new pg.Pool({ connectionString: url, options: `-c search_path=${schema}`, max: 1 });
      const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
      const deviceColumns = async () =>
        (await admin.query<{ column_name: string }>('select column_name from information_schema.columns where table_schema = $1 and table_name = $2', [schema, 'devices'])).rows.map(
          (row) => row.column_name,
        );
      try {
        await migrateTo(db, DialectKind.Postgres, schema, INITIAL_MIGRATION);
      } finally {
        await db.destroy();
      }
      // A table in the way of the second migration's last steps, after it has altered devices.
      await admin.query(`create table ${schema}.security_events (in_the_way integer)`);
      await expect(openPostgresStore({ connectionString: url, searchPath: schema })).rejects.toThrow(MigrationError);
      expect(await deviceColumns()).not.toContain('temporary');

      await admin.query(`drop table ${schema}.security_events`);
      await (await openPostgresStore({ connectionString: url, searchPath: schema })).close();
      expect(await deviceColumns()).toEqual(expect.arrayContaining(['temporary', 'user_agent', 'network', 'disconnected_at']));
    });

    it('reopening an up-to-date schema applies no migration', async () => {
      const schema = await freshSchema();
      const logged: string[] = [];
      const logger = { info: (_: object, message: string) => logged.push(message), warn: () => {}, error: () => {} };
      await (await openPostgresStore({ connectionString: url, searchPath: schema }, logger)).close();
      expect(logged).toContain('store migration applied');
      logged.length = 0;
      await (await openPostgresStore({ connectionString: url, searchPath: schema }, logger)).close();
      expect(logged).not.toContain('store migration applied');
    });
  });
}
