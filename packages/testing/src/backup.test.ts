// Integration: `pairwise-admin backup` copies the store of a running server that is taking messages,
// and `pairwise-admin restore` puts the copy back once the server is stopped. Every message the
// server acknowledged before the backup began must be delivered from the restored store, once
// (SPEC OPS-5, INBOX-2); a restore while the server runs must be refused.
import { readdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { MemoryStore } from '@pairwise/client/memory-store';
import { afterEach, describe, expect, it } from 'vitest';
import { removeDataDir, startServerProcess, type ServerProcess } from './server-process.js';
import { runAdminCli } from './test-support/admin-cli.js';
import { createPrimary, eventually, reopenListening } from './test-clients.js';

/** Servers to stop after each test. SQLite whatever DATABASE_URL_FOR_SERVER says: the commands are for SQLite. */
const servers: ServerProcess[] = [];
const SQLITE = { DATABASE_URL: '' };
const backups: string[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    await server.stop();
    removeDataDir(server);
  }
  for (const file of backups.splice(0)) await rm(file, { force: true });
});

/** Where a backup of `server` goes: beside its data directory, removed after the test. */
function backupFile(server: ServerProcess): string {
  const file = join(server.dataDir, '..', `${basename(server.dataDir)}-backup.sqlite`);
  backups.push(file);
  return file;
}

async function start(): Promise<ServerProcess> {
  const server = await startServerProcess({ env: SQLITE });
  servers.push(server);
  return server;
}

describe('[OPS-5] [INBOX-2] backup and restore with the server running', () => {
  it('a backup taken mid-stream, restored, delivers every message acknowledged before it began, exactly once', async () => {
    let server = await start();
    const alice = await createPrimary(server, 'alice_backup');
    const bobStore = new MemoryStore();
    await (await createPrimary(server, 'bob_backup', bobStore)).close();

    // Bob is away: everything waits in his inbox, and the backup holds what had arrived by then.
    const total = 200;
    const acknowledged = new Set<string>();
    const sends = Array.from({ length: total }, (_, i) => {
      const text = `message ${i}`;
      return alice.sendText('bob_backup', text).then(() => acknowledged.add(text));
    });
    await eventually(() => acknowledged.size >= 30, 30_000, 'some acknowledged sends');
    const acknowledgedBefore = [...acknowledged];
    const file = backupFile(server);
    const backup = await runAdminCli(['backup', file], { DATA_DIR: server.dataDir });
    expect(backup.stderr).toBe('');
    expect(backup.status).toBe(0);
    expect(backup.stdout).toMatch(/integrity check: ok\n {2}schema: \S+\n {2}accounts: 2\n {2}devices: 2\n {2}undelivered inbox rows: (\d+)/);
    const rowsInBackup = Number(/undelivered inbox rows: (\d+)/.exec(backup.stdout)![1]);
    expect(rowsInBackup).toBeGreaterThanOrEqual(acknowledgedBefore.length);
    // Nothing about who or what: counts only.
    expect(backup.stdout).not.toMatch(/alice|bob|message \d/);

    // The server went on: every send is acknowledged, and more after the backup had finished.
    await Promise.all(sends);
    const after = ['after the backup 1', 'after the backup 2', 'after the backup 3'];
    for (const text of after) await alice.sendText('bob_backup', text);
    await alice.close();
    await server.stop();

    const restored = await runAdminCli(['restore', file], { DATA_DIR: server.dataDir });
    expect(restored.stderr).toBe('');
    expect(restored.status).toBe(0);
    expect(restored.stdout).toContain(`undelivered inbox rows: ${rowsInBackup}`);
    const kept = /The replaced database is kept as (\S+)/.exec(restored.stdout)![1]!;
    expect((await readdir(server.dataDir)).sort()).toEqual(['pairwise.sqlite', basename(kept)]);

    // Started again on the restored store (same port: devices signed this origin).
    server = await server.restart();
    servers.splice(0, 1, server);
    const received: string[] = [];
    const bob = await reopenListening(server, bobStore, received);
    await eventually(() => acknowledgedBefore.every((text) => received.includes(text)), 30_000, 'every message acknowledged before the backup');
    await eventually(() => received.length >= rowsInBackup, 10_000, 'every message in the backup');
    // Time for a duplicate to show up, if the restored store or the cursor were wrong.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(received).toHaveLength(rowsInBackup);
    expect(new Set(received).size).toBe(received.length);
    // What the backup did not have is not there: the store really is the backup.
    for (const text of after) expect(received).not.toContain(text);
    expect(received.every((text) => /^message \d+$/.test(text))).toBe(true);
    await bob.close();
  }, 120_000);

  it('refuses to restore while the server runs, and the server goes on as before', async () => {
    const server = await start();
    const alice = await createPrimary(server, 'alice_running');
    const bob = await createPrimary(server, 'bob_running');
    const received: string[] = [];
    bob.on('message', (message) => received.push(message.text));
    const file = backupFile(server);
    expect((await runAdminCli(['backup', file], { DATA_DIR: server.dataDir })).status).toBe(0);
    const listing = (await readdir(server.dataDir)).sort();

    const refused = await runAdminCli(['restore', file], { DATA_DIR: server.dataDir });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^pairwise-admin: .*pairwise\.sqlite is in use, most likely by a running server: stop the server first/);
    expect(refused.stdout).toBe('');
    expect((await readdir(server.dataDir)).sort()).toEqual(listing);

    await alice.sendText('bob_running', 'still here');
    await eventually(() => received.includes('still here'), 10_000, 'a message after the refused restore');
    await alice.close();
    await bob.close();
  }, 60_000);
});
