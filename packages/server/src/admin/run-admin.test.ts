import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../store/open-store.js';
import { populateInstallation } from '../test-support/installation-fixture.js';
import { runAdmin } from './run-admin.js';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pairwise-admin-cli-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Runs the command line, capturing what it prints. */
async function admin(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await runAdmin(argv, env, { out: (line) => out.push(line), err: (line) => err.push(line) }, () => new Date(Date.UTC(2026, 0, 2, 3, 4, 5)));
  return { status, out: out.join('\n'), err: err.join('\n') };
}

describe('[OPS-5] [OPS-6] pairwise-admin', () => {
  it('exits 2 with the usage for a command line it cannot run', async () => {
    const dataDir = join(root, 'usage');
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [[], {}, /no command given/],
      [['frobnicate'], {}, /unknown command "frobnicate"/],
      [['backup'], {}, /backup needs a file name/],
      [['backup', 'a', 'b'], {}, /takes one file name/],
      [['restore'], {}, /restore needs a file name/],
      [['move-to-postgres', 'x'], {}, /takes no arguments/],
      [['move-to-postgres'], { DATA_DIR: dataDir }, /needs DATABASE_URL/],
      [['backup', 'b.sqlite'], { DATABASE_URL: 'postgres://db/x' }, /DATABASE_URL is set: for PostgreSQL use its own tools/],
      [['restore', 'b.sqlite'], { DATABASE_URL: 'postgres://db/x' }, /DATABASE_URL is set/],
    ];
    for (const [argv, env, message] of cases) {
      const result = await admin(argv, env);
      expect(result.status, argv.join(' ')).toBe(2);
      expect(result.err).toMatch(message);
      expect(result.err).toContain('usage: pairwise-admin <command>');
      expect(result.out).toBe('');
    }
    // A bad setting is reported as the server reports it, also with status 2.
    const bad = await admin(['backup', 'b.sqlite'], { DATABASE_URL: 'mysql://db/x' });
    expect(bad.status).toBe(2);
    expect(bad.err).toMatch(/^pairwise-admin: DATABASE_URL must be a postgres:\/\/ URL/);
  });

  it('prints the usage for help, with status 0', async () => {
    const result = await admin(['help']);
    expect(result.status).toBe(0);
    expect(result.out).toMatch(/backup <file>[\s\S]*restore <file>[\s\S]*move-to-postgres/);
  });

  it('exits 1 with one sentence when the work fails', async () => {
    const result = await admin(['backup', join(root, 'b.sqlite')], { DATA_DIR: join(root, 'nothing-here') });
    expect(result.status).toBe(1);
    expect(result.err).toBe(`pairwise-admin: there is no database at ${join(root, 'nothing-here', 'pairwise.sqlite')}: is DATA_DIR right?`);
  });

  it('backs up and restores, printing counts and sizes but no account name, key or content', async () => {
    const dataDir = join(root, 'data');
    const store = await openStore({ databaseUrl: null, dataDir });
    const facts = await populateInstallation(store, 'zq_');
    await store.close();
    const file = join(root, 'cli-backup.sqlite');

    const backedUp = await admin(['backup', file], { DATA_DIR: dataDir });
    expect(backedUp.err).toBe('');
    expect(backedUp.status).toBe(0);
    expect(backedUp.out).toMatch(/^Backed up .*pairwise\.sqlite to .*cli-backup\.sqlite\n {2}integrity check: ok\n {2}schema: 0\d{3}_\w+\n {2}accounts: 2\n {2}devices: 3\n {2}undelivered inbox rows: 6\n {2}size: \d+ bytes \(\d+\.\d MiB\)$/);

    const restored = await admin(['restore', file], { DATA_DIR: dataDir });
    expect(restored.status).toBe(0);
    expect(restored.out).toContain(`The replaced database is kept as ${join(dataDir, 'pairwise.sqlite.replaced-2026-01-02T03-04-05-000Z')}`);
    expect(restored.out).toContain('accounts: 2');

    for (const output of [backedUp.out, restored.out]) {
      expect(output).not.toContain('zq_');
      for (const deviceId of facts.deviceIds) expect(output).not.toContain(deviceId);
      expect(output).not.toContain(Buffer.from(facts.bobPrimary.signingKey).toString('hex'));
    }
  });
});
