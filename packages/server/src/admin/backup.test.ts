import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, SQLITE_FILE_NAME } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { corruptIndex, expectFilledSnapshot, fixtureMessage, FIXTURE_T0, populateInstallation, snapshotInstallation } from '../test-support/installation-fixture.js';
import { AdminError } from './admin-error.js';
import { backup } from './backup.js';
import { rejection } from '../test-support/rejection.js';

let root: string;
let dirs = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pairwise-backup-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function freshDir(name: string): Promise<string> {
  const dir = join(root, `${name}-${dirs++}`);
  await mkdir(dir);
  return dir;
}

describe('[OPS-5] backup', () => {
  it('copies the live store while it keeps writing: the copy holds every row committed before it began, verified and self-contained', async () => {
    const dataDir = await freshDir('live');
    const live = await openStore({ databaseUrl: null, dataDir });
    let copy: Store | null = null;
    try {
      const facts = await populateInstallation(live);
      const before = await snapshotInstallation(live, facts);
      expectFilledSnapshot(before);

      // The store goes on taking messages while the backup runs, as a server would.
      let writing = true;
      let written = 0;
      const writer = (async () => {
        while (writing) {
          const result = await live.enqueue(fixtureMessage(facts.alicePrimary, facts.bobPrimary.accountId, [facts.bobPrimary.deviceId, facts.companion.deviceId], FIXTURE_T0 + 10 + written));
          expect(result.status).toBe('accepted');
          written++;
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      const file = join(await freshDir('out'), 'backup.sqlite');
      const report = await backup({ dataDir, file });
      writing = false;
      await writer;
      expect(written).toBeGreaterThan(0);

      expect(report.file).toBe(file);
      expect(report.source).toBe(join(dataDir, SQLITE_FILE_NAME));
      expect(report.bytes).toBe((await stat(file)).size);
      expect(report.summary).toMatchObject({ accounts: 2, devices: 3, upToDate: true });
      // The fixture's six rows, and some of those written meanwhile (two rows per send).
      expect(report.summary.inboxRows).toBeGreaterThanOrEqual(6);
      expect(report.summary.inboxRows).toBeLessThanOrEqual(6 + 2 * written);
      // One file, owner-only, not in WAL mode: it can be copied away alone.
      expect((await readdir(join(file, '..'))).sort()).toEqual(['backup.sqlite']);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const header = await readFile(file);
      expect(header.subarray(18, 20)).toEqual(Buffer.from([1, 1]));

      // Restored as a data directory, it is the store as it was: every value the same.
      const restoredDir = await freshDir('restored');
      await writeFile(join(restoredDir, SQLITE_FILE_NAME), header);
      copy = await openStore({ databaseUrl: null, dataDir: restoredDir });
      const after = await snapshotInstallation(copy, facts);
      // Rows sent during the backup may be in it or not; those from before are there, unchanged.
      expect({ ...after, inboxes: after.inboxes.map((rows, i) => rows.slice(0, before.inboxes[i]!.length)) }).toEqual(before);
      expect(after.inboxes.flat()).toHaveLength(report.summary.inboxRows);
    } finally {
      await copy?.close();
      await live.close();
    }
  });

  it('refuses to overwrite an existing file, leaving it as it was', async () => {
    const dataDir = await freshDir('live');
    const live = await openStore({ databaseUrl: null, dataDir });
    try {
      const file = join(await freshDir('out'), 'taken.sqlite');
      await writeFile(file, 'an older backup');
      const error = await rejection(backup({ dataDir, file }));
      expect(error).toBeInstanceOf(AdminError);
      expect(error.message).toContain('already exists');
      expect(await readFile(file, 'utf8')).toBe('an older backup');
    } finally {
      await live.close();
    }
  });

  it('says so when DATA_DIR holds no store or the target directory is missing, and leaves no file behind', async () => {
    const empty = await freshDir('empty');
    const out = await freshDir('out');
    const missing = await rejection(backup({ dataDir: empty, file: join(out, 'b.sqlite') }));
    expect(missing).toBeInstanceOf(AdminError);
    expect(missing.message).toContain('there is no database at');
    expect(await readdir(out)).toEqual([]);

    const dataDir = await freshDir('live');
    await (await openStore({ databaseUrl: null, dataDir })).close();
    const noDir = await rejection(backup({ dataDir, file: join(out, 'nowhere', 'b.sqlite') }));
    expect(noDir).toBeInstanceOf(AdminError);
    expect(noDir.message).toContain('does not exist');
  });

  it('refuses a store that fails the integrity check, and removes the partial backup', async () => {
    const dataDir = await freshDir('damaged');
    const store = await openStore({ databaseUrl: null, dataDir });
    await populateInstallation(store);
    await store.close();
    // Bytes of an index page flipped on disk, as a failing disk would: the table and the index disagree.
    await corruptIndex(join(dataDir, SQLITE_FILE_NAME), 'inbox_device_id_seq_sender');
    const out = await freshDir('out');
    const error = await rejection(backup({ dataDir, file: join(out, 'b.sqlite') }));
    expect(error).toBeInstanceOf(AdminError);
    expect(error.message).toMatch(/integrity check|damaged/);
    expect(await readdir(out)).toEqual([]);
  });
});
