import { chmod, copyFile, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DialectKind } from '../store/database.js';
import { INITIAL_MIGRATION, migrateTo } from '../store/migrations.js';
import { openSqliteDatabase, sqliteDialect } from '../store/open-sqlite-store.js';
import { openStore, SQLITE_FILE_NAME } from '../store/open-store.js';
import { corruptIndex, expectFilledSnapshot, populateInstallation, snapshotInstallation, type InstallationFacts } from '../test-support/installation-fixture.js';
import { AdminError } from './admin-error.js';
import { backup } from './backup.js';
import { MIGRATION_TABLE_NAME } from './inspect-sqlite.js';
import { restore } from './restore.js';
import { rejection } from '../test-support/rejection.js';

let root: string;
let dirs = 0;
const NOW = new Date(Date.UTC(2026, 10, 26, 10, 31, 5, 123));
const KEPT = `${SQLITE_FILE_NAME}.replaced-2026-11-26T10-31-05-123Z`;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pairwise-restore-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function freshPath(name: string): string {
  return join(root, `${name}-${dirs++}`);
}

/** A data directory with the fixture in it, and a backup of it taken through `backup`. */
async function installationWithBackup(): Promise<{ dataDir: string; file: string; facts: InstallationFacts }> {
  const dataDir = freshPath('data');
  const store = await openStore({ databaseUrl: null, dataDir });
  try {
    const facts = await populateInstallation(store);
    const file = join(root, `backup-${dirs++}.sqlite`);
    await backup({ dataDir, file });
    return { dataDir, file, facts };
  } finally {
    await store.close();
  }
}

/** A backup whose bytes `change` edits (through SQLite) after it was taken. */
async function editedBackup(change: (db: Sqlite.Database) => void): Promise<string> {
  const { file } = await installationWithBackup();
  const db = new Sqlite(file);
  change(db);
  db.close();
  return file;
}

describe('[OPS-5] restore', () => {
  it('puts the backup in place, keeping the replaced store beside it under a timestamped name', async () => {
    const { dataDir, file, facts } = await installationWithBackup();
    const copy = await openStore({ databaseUrl: null, dataDir: await dataDirHolding(file) });
    const inBackup = await snapshotInstallation(copy, facts);
    await copy.close();
    expectFilledSnapshot(inBackup);
    // After the backup the installation moves on: accounts the backup does not have.
    const live = await openStore({ databaseUrl: null, dataDir });
    await populateInstallation(live, 'later_');
    await live.close();

    const report = await restore({ dataDir, file, now: NOW });
    expect(report.store).toBe(join(dataDir, SQLITE_FILE_NAME));
    expect(report.replacedKeptAs).toBe(join(dataDir, KEPT));
    expect(report.summary).toMatchObject({ accounts: 2, devices: 3, inboxRows: 6, upToDate: true });
    // The old store is one complete file (its WAL folded in); nothing else is left over.
    expect((await readdir(dataDir)).sort()).toEqual([SQLITE_FILE_NAME, KEPT]);
    expect((await stat(report.store)).mode & 0o777).toBe(0o600);

    const restored = await openStore({ databaseUrl: null, dataDir });
    try {
      expect(await snapshotInstallation(restored, facts)).toEqual(inBackup);
      expect(await restored.getAccount('later_alice')).toBeNull();
    } finally {
      await restored.close();
    }
    const kept = await openStore({ databaseUrl: null, dataDir: await dataDirHolding(join(dataDir, KEPT)) });
    try {
      expect(await kept.getAccount('later_alice')).not.toBeNull();
      expect(await snapshotInstallation(kept, facts)).toEqual(inBackup);
    } finally {
      await kept.close();
    }
  });

  it('refuses while a store is open on the database, changing nothing', async () => {
    const { dataDir, file, facts } = await installationWithBackup();
    const running = await openStore({ databaseUrl: null, dataDir });
    try {
      await populateInstallation(running, 'later_');
      const listing = (await readdir(dataDir)).sort();
      const error = await rejection(restore({ dataDir, file, now: NOW }));
      expect(error).toBeInstanceOf(AdminError);
      expect(error.message).toMatch(/is in use.*stop the server first/);
      expect((await readdir(dataDir)).sort()).toEqual(listing);
      // The open store goes on working on its own data.
      expect(await running.getAccount('later_alice')).not.toBeNull();
      expectFilledSnapshot(await snapshotInstallation(running, facts));
    } finally {
      await running.close();
    }
    // Once it is closed, the same restore goes through.
    expect((await restore({ dataDir, file, now: NOW })).replacedKeptAs).toBe(join(dataDir, KEPT));
  });

  it('refuses to replace a store it cannot read, saying how to go on, and goes through once it is moved aside', async () => {
    const { dataDir, file, facts } = await installationWithBackup();
    await writeFile(join(dataDir, SQLITE_FILE_NAME), 'x'.repeat(4096));
    const error = await rejection(restore({ dataDir, file, now: NOW }));
    expect(error).toBeInstanceOf(AdminError);
    expect(error.message).toMatch(/cannot be read as an SQLite database .*move it and any -wal and -shm file beside it out of DATA_DIR/);
    expect(await readdir(dataDir)).toEqual([SQLITE_FILE_NAME]);

    await rename(join(dataDir, SQLITE_FILE_NAME), join(root, `damaged-${dirs++}.sqlite`));
    expect((await restore({ dataDir, file, now: NOW })).replacedKeptAs).toBeNull();
    const store = await openStore({ databaseUrl: null, dataDir });
    try {
      expectFilledSnapshot(await snapshotInstallation(store, facts));
    } finally {
      await store.close();
    }
  });

  it('restores into a data directory that does not exist yet, owner-only', async () => {
    const { file, facts } = await installationWithBackup();
    const dataDir = join(freshPath('new'), 'data');
    const report = await restore({ dataDir, file, now: NOW });
    expect(report.replacedKeptAs).toBeNull();
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    const store = await openStore({ databaseUrl: null, dataDir });
    try {
      expectFilledSnapshot(await snapshotInstallation(store, facts));
    } finally {
      await store.close();
    }
  });

  it('moves aside a stale WAL of a store that is not there, so it cannot be replayed into the restored one', async () => {
    const { file, facts } = await installationWithBackup();
    const dataDir = freshPath('stale');
    await mkdir(dataDir);
    await writeFile(join(dataDir, `${SQLITE_FILE_NAME}-wal`), 'left from another database');
    await restore({ dataDir, file, now: NOW });
    expect((await readdir(dataDir)).sort()).toEqual([SQLITE_FILE_NAME, `${KEPT}-wal`]);
    const store = await openStore({ databaseUrl: null, dataDir });
    try {
      expectFilledSnapshot(await snapshotInstallation(store, facts));
    } finally {
      await store.close();
    }
  });

  it('accepts a backup of an older schema, which the server migrates when it starts', async () => {
    const file = join(root, `old-${dirs++}.sqlite`);
    const db = new Kysely<unknown>({ dialect: sqliteDialect(openSqliteDatabase(file)) });
    await migrateTo(db, DialectKind.Sqlite, null, INITIAL_MIGRATION);
    await db.destroy();
    const dataDir = freshPath('old');
    const report = await restore({ dataDir, file, now: NOW });
    expect(report.summary).toMatchObject({ schema: INITIAL_MIGRATION, upToDate: false, accounts: 0 });
    await (await openStore({ databaseUrl: null, dataDir })).close();
  });

  describe('refuses a backup it cannot trust, leaving the data directory as it was', () => {
    const cases: [string, () => Promise<string>, RegExp][] = [
      ['missing', () => Promise.resolve(join(root, 'no-such-backup.sqlite')), /there is no backup/],
      [
        'not a database',
        async () => {
          const file = join(root, `text-${dirs++}.sqlite`);
          await writeFile(file, 'SQLite format 3? not really, just text that is long enough to look like a header of some kind');
          return file;
        },
        /not an SQLite database|cannot be read/,
      ],
      [
        'damaged',
        async () => {
          const { file } = await installationWithBackup();
          await corruptIndex(file, 'inbox_device_id_seq_sender');
          return file;
        },
        /integrity check|damaged/,
      ],
      ['from a newer release', () => editedBackup((db) => db.prepare(`insert into ${MIGRATION_TABLE_NAME} (name, timestamp) values ('9999_future', 'x')`).run()), /newer release/],
      ['not a Pairwise database', () => editedBackup((db) => db.exec(`drop table ${MIGRATION_TABLE_NAME}`)), /not a Pairwise database/],
    ];
    for (const [name, make, message] of cases) {
      it(name, async () => {
        const { dataDir, facts } = await installationWithBackup();
        const file = await make();
        const listing = (await readdir(dataDir)).sort();
        const error = await rejection(restore({ dataDir, file, now: NOW }));
        expect(error).toBeInstanceOf(AdminError);
        expect(error.message).toMatch(message);
        expect((await readdir(dataDir)).sort()).toEqual(listing);
        const store = await openStore({ databaseUrl: null, dataDir });
        try {
          expectFilledSnapshot(await snapshotInstallation(store, facts));
        } finally {
          await store.close();
        }
      });
    }
  });

  it('refuses a backup with a WAL file beside it', async () => {
    const { dataDir, file } = await installationWithBackup();
    await writeFile(`${file}-wal`, '');
    await chmod(`${file}-wal`, 0o600);
    const error = await rejection(restore({ dataDir, file, now: NOW }));
    expect(error.message).toContain('-wal lies beside the backup');
  });
});

/** A new data directory holding a copy of `file` as its store (opening it there leaves `file` alone). */
async function dataDirHolding(file: string): Promise<string> {
  const dir = freshPath('copy');
  await mkdir(dir);
  await copyFile(file, join(dir, SQLITE_FILE_NAME));
  return dir;
}
