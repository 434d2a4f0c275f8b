/**
 * The server's SQLite database, written by the test itself: how these tests play a server that
 * lies (lists a device under another account, withholds a list update, rolls an account key back)
 * or a person who reinstalls (a new account key for the same username), with the server's own
 * code running unchanged on top. Only for servers on the default SQLite store.
 * @module
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MemoryStore } from '@pairwise/client/memory-store';
import { loadIdentity, saveIdentity, type StoredIdentity } from '@pairwise/client/identity';
import { PairwiseClient } from '@pairwise/client/pairwise-client';
import { signDeviceAttestation } from '@pairwise/crypto/device-attestation';
import { signDeviceList } from '@pairwise/crypto/device-list';
import { publicIdentity } from '@pairwise/crypto/keys';
import type { ServerProcess } from '../server-process.js';
import { connectOptions, createPrimary } from '../test-clients.js';

const YEAR_MS = 365 * 24 * 60 * 60 * 1000;

/** Opens the server's database for writing, with foreign keys (and so cascades) on, as the server has them. */
export function serverDatabase(server: Pick<ServerProcess, 'dataDir'>): Database.Database {
  const db = new Database(join(server.dataDir, 'pairwise.sqlite'));
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

/** Runs `work` on the server's database and closes it. */
export function withServerDatabase<T>(server: Pick<ServerProcess, 'dataDir'>, work: (db: Database.Database) => T): T {
  const db = serverDatabase(server);
  try {
    // IMMEDIATE: a read-then-write transaction that starts deferred fails at once ("database is
    // locked") when the server wrote meanwhile; taking the write lock first waits for it instead.
    return db.transaction(() => work(db)).immediate();
  } finally {
    db.close();
  }
}

/** An account's row and its devices' rows as stored, to put back later. */
export interface AccountSnapshot {
  readonly account: Record<string, unknown>;
  readonly devices: readonly Record<string, unknown>[];
}

/** Reads an account's rows. */
export function snapshotAccount(server: Pick<ServerProcess, 'dataDir'>, accountId: string): AccountSnapshot {
  return withServerDatabase(server, (db) => ({
    account: db.prepare('select * from accounts where account_id = ?').get(accountId) as Record<string, unknown>,
    devices: db.prepare('select * from devices where account_id = ?').all(accountId) as Record<string, unknown>[],
  }));
}

/** Puts an account back as `snapshot` had it: its key, list and devices (devices added since go). */
export function restoreAccount(server: Pick<ServerProcess, 'dataDir'>, snapshot: AccountSnapshot): void {
  withServerDatabase(server, (db) => {
    const { account } = snapshot;
    db.prepare('update accounts set identity_key = ?, list_body = ?, list_signature = ?, list_version = ?, list_expires_at = ? where account_id = ?').run(
      account.identity_key,
      account.list_body,
      account.list_signature,
      account.list_version,
      account.list_expires_at,
      account.account_id,
    );
    db.prepare('delete from devices where account_id = ?').run(account.account_id);
    for (const device of snapshot.devices) {
      const columns = Object.keys(device);
      db.prepare(`insert into devices (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`).run(...columns.map((column) => device[column]));
    }
  });
}

let reinstalls = 0;

/**
 * The person behind `accountId` reinstalls: a new account key and a new phone, the old devices
 * gone, the same username. (The server has no way to do this, so the test does what such a
 * feature would leave in the database.) Returns the new phone, connected, on its own store.
 */
export async function reinstallAccount(server: ServerProcess, accountId: string, now = Date.now()): Promise<PairwiseClient> {
  // A real registration makes the keys, prekeys and device row; then it is moved to `accountId`.
  const store = new MemoryStore();
  const temporaryName = `reinstall${++reinstalls}x${Date.now() % 100_000}`;
  const made = await createPrimary(server, temporaryName, store);
  await made.close();
  const identity = (await loadIdentity(store))!;
  const entry = { deviceId: identity.deviceId, kind: 'primary' as const, identity: publicIdentity(identity.device), linkedAt: now };
  const list = await signDeviceList(identity.account!.privateKey, { accountId, version: 1, issuedAt: now, expiresAt: now + YEAR_MS, devices: [entry] });
  const attestation = await signDeviceAttestation(identity.device.signing.privateKey, {
    accountId,
    accountKey: identity.accountKey,
    deviceId: identity.deviceId,
    identity: entry.identity,
  });
  withServerDatabase(server, (db) => {
    db.prepare('update accounts set identity_key = ?, list_body = ?, list_signature = ?, list_version = 1, list_expires_at = ? where account_id = ?').run(
      identity.accountKey,
      list.body,
      list.signature,
      now + YEAR_MS,
      accountId,
    );
    db.prepare('delete from devices where account_id = ?').run(accountId);
    db.prepare('update devices set account_id = ?, attestation = ? where device_id = ?').run(accountId, attestation, identity.deviceId);
    db.prepare('delete from accounts where account_id = ?').run(temporaryName);
  });
  const moved: StoredIdentity = { ...identity, accountId };
  await saveIdentity(store, moved);
  const phone = (await PairwiseClient.open(connectOptions(server, store)))!;
  await phone.ready();
  return phone;
}

/** Replaces an account's list with one the test signs with `signer`'s account key (a primary's identity). */
export async function replaceList(
  server: Pick<ServerProcess, 'dataDir'>,
  signer: StoredIdentity,
  devices: Parameters<typeof signDeviceList>[1]['devices'],
  version: number,
  now = Date.now(),
  expiresAt = now + YEAR_MS,
): Promise<void> {
  const list = await signDeviceList(signer.account!.privateKey, { accountId: signer.accountId, version, issuedAt: now, expiresAt, devices });
  withServerDatabase(server, (db) => {
    db.prepare('update accounts set list_body = ?, list_signature = ?, list_version = ?, list_expires_at = ? where account_id = ?').run(
      list.body,
      list.signature,
      version,
      expiresAt,
      signer.accountId,
    );
  });
}
