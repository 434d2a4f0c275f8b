/**
 * For the admin commands' tests (backup, restore, move to PostgreSQL): a store filled through the
 * Store API with a bit of everything a real installation holds (two accounts, a temporary
 * companion, prekeys of every kind, a pending link, undelivered and acknowledged messages, a PIN,
 * a security log, contacts), and a snapshot of it read back through the Store API, so that a copy
 * can be compared with its original value by value; and a way to damage a file as a disk would.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import Sqlite from 'better-sqlite3';
import { expect } from 'vitest';
import type {
  AccountRow,
  AccountSecurityRow,
  DeviceRow,
  EnqueueInput,
  InboxRow,
  PendingLinkRow,
  PreKeyCounts,
  PreKeyUploadRow,
  SecurityEventRow,
  Store,
} from '../store/store.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** The fixture's clock: a whole minute, so that activity rounded to the minute stays as given. */
export const FIXTURE_T0 = Date.UTC(2025, 0, 1, 12, 0);
const FAR = FIXTURE_T0 + 365 * DAY;

const random = (length: number): Uint8Array => new Uint8Array(randomBytes(length));

/** What a test needs to find the fixture's rows again. */
export interface InstallationFacts {
  readonly accountIds: readonly string[];
  readonly deviceIds: readonly string[];
  readonly alicePrimary: DeviceRow;
  readonly bobPrimary: DeviceRow;
  /** Alice's companion: temporary, attested, disconnected. */
  readonly companion: DeviceRow;
  /** Bob's primary's prekeys as uploaded. */
  readonly bobPreKeys: PreKeyUploadRow;
  /** The token hash of a link request still waiting. */
  readonly pendingTokenHash: Uint8Array;
  /** The highest inbox seq ever given out; its rows were acknowledged, so it is not in any inbox. */
  readonly highestSeq: number;
}

/** Everything the fixture wrote, as the Store API reads it back. */
export interface InstallationSnapshot {
  readonly accounts: readonly (AccountRow | null)[];
  readonly devices: readonly DeviceRow[][];
  readonly inboxes: readonly InboxRow[][];
  readonly preKeys: readonly PreKeyCounts[];
  readonly security: readonly (AccountSecurityRow | null)[];
  readonly events: readonly SecurityEventRow[][];
  readonly contacts: readonly string[][];
  readonly pendingLink: PendingLinkRow | null;
}

function device(accountId: string, kind: 'primary' | 'companion', temporary = false): DeviceRow {
  return {
    deviceId: randomBytes(16).toString('hex'),
    accountId,
    kind,
    signingKey: random(32),
    agreementKey: random(32),
    name: kind === 'primary' ? 'Phone' : 'Chrome on Linux',
    linkedAt: FIXTURE_T0,
    lastActiveAt: FIXTURE_T0,
    temporary,
    userAgent: kind === 'primary' ? '' : 'Mozilla/5.0 (X11; Linux x86_64)',
    network: '192.0.2.0/24',
    disconnectedAt: null,
    attestation: kind === 'primary' ? random(64) : null,
  };
}

function preKeys(oneTimeIds: readonly number[]): PreKeyUploadRow {
  return {
    signedPreKey: { id: 1, publicKey: random(32), signature: random(64) },
    pqPreKey: { id: 1, publicKey: random(1184), signature: random(64) },
    oneTimePreKeys: oneTimeIds.map((id) => ({ id, publicKey: random(32) })),
    pqOneTimePreKeys: oneTimeIds.map((id) => ({ id, publicKey: random(1184), signature: random(64) })),
  };
}

function account(accountId: string): AccountRow {
  return { accountId, identityKey: random(32), deviceList: { body: random(100), signature: random(64) }, deviceListVersion: 1, deviceListExpiresAt: FAR, createdAt: FIXTURE_T0 };
}

function pendingLink(companion: DeviceRow): PendingLinkRow {
  return {
    tokenHash: random(32),
    createdAt: FIXTURE_T0,
    // Far off, so that the snapshot can read it at FIXTURE_T0 whatever the test's own clock.
    expiresAt: FAR,
    ipAddress: '192.0.2.7',
    userAgent: companion.userAgent,
    deviceName: companion.name,
    temporary: companion.temporary,
    deviceId: companion.deviceId,
    signingKey: companion.signingKey,
    agreementKey: companion.agreementKey,
    preKeys: preKeys([7, 8]),
  };
}

/** A send from `sender` to `recipientAccountId`, one envelope of random content per device. */
export function fixtureMessage(sender: DeviceRow, recipientAccountId: string, deviceIds: readonly string[], now = FIXTURE_T0): EnqueueInput {
  return {
    senderAccountId: sender.accountId,
    senderDeviceId: sender.deviceId,
    recipientAccountId,
    clientMessageId: random(16),
    envelopes: deviceIds.map((deviceId) => ({ deviceId, content: random(200) })),
    now,
    expiresAt: now + 30 * DAY,
  };
}

async function send(store: Store, input: EnqueueInput): Promise<{ deviceId: string; seq: number }[]> {
  const result = await store.enqueue(input);
  if (result.status !== 'accepted') throw new Error(`fixture send was ${result.status}`);
  return [...result.seqs];
}

/** Fills an empty store; `prefix` keeps account names apart when several fixtures share one. */
export async function populateInstallation(store: Store, prefix = ''): Promise<InstallationFacts> {
  const [alice, bob] = [`${prefix}alice`, `${prefix}bob`];
  const alicePrimary = device(alice, 'primary');
  const bobPrimary = device(bob, 'primary');
  const bobPreKeys = preKeys([1, 2, 3]);
  expect(await store.createAccount({ account: account(alice), device: alicePrimary, preKeys: preKeys([1, 2]) })).toBe('created');
  expect(await store.createAccount({ account: account(bob), device: bobPrimary, preKeys: bobPreKeys })).toBe('created');

  // A temporary companion, linked, attested, and gone since a minute later.
  const linked = device(alice, 'companion', true);
  const link = pendingLink(linked);
  await store.createPendingLink(link);
  const result = await store.linkCompanion({
    tokenHash: link.tokenHash,
    now: FIXTURE_T0,
    accountId: alice,
    expectedListVersion: 1,
    newList: { body: random(120), signature: random(64) },
    newListExpiresAt: FAR,
    maxCompanions: 4,
    device: linked,
  });
  expect(result).toBe('linked');
  const attestation = random(64);
  expect(await store.setAttestation(linked.deviceId, attestation)).toBe(true);
  await store.setDisconnectedAt(linked.deviceId, FIXTURE_T0 + MINUTE);
  const companion = { ...linked, attestation, disconnectedAt: FIXTURE_T0 + MINUTE };
  const waiting = pendingLink(device(alice, 'companion'));
  await store.createPendingLink(waiting);

  // Three messages to bob (with copies for alice's companion), one back; the last to bob is
  // acknowledged on both devices, so the highest seq given out is in no inbox any more.
  const toBob = [bobPrimary.deviceId, companion.deviceId];
  await send(store, fixtureMessage(alicePrimary, bob, toBob));
  await send(store, fixtureMessage(bobPrimary, alice, [alicePrimary.deviceId, companion.deviceId], FIXTURE_T0 + 1));
  await send(store, fixtureMessage(alicePrimary, bob, toBob, FIXTURE_T0 + 2));
  const last = await send(store, fixtureMessage(alicePrimary, bob, toBob, FIXTURE_T0 + 3));
  for (const { deviceId, seq } of last) expect(await store.ackInbox(deviceId, [seq])).toBe(1);

  expect(await store.updateSecurity(alice, { pinHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo', pinFailures: 2, inactiveDays: 7 })).toBe(true);
  await store.addSecurityEvent({ accountId: alice, at: FIXTURE_T0, kind: 'device-linked', deviceId: companion.deviceId, deviceName: companion.name, actor: '', network: '192.0.2.0/24' });
  await store.addSecurityEvent({ accountId: alice, at: FIXTURE_T0 + MINUTE, kind: 'pin-failed', deviceId: '', deviceName: '', actor: '', network: '198.51.100.0/24' });

  return {
    accountIds: [alice, bob],
    deviceIds: [alicePrimary.deviceId, companion.deviceId, bobPrimary.deviceId],
    alicePrimary,
    bobPrimary,
    companion,
    bobPreKeys,
    pendingTokenHash: waiting.tokenHash,
    highestSeq: Math.max(...last.map((row) => row.seq)),
  };
}

/** Reads back, without changing anything, every row the fixture wrote. */
export async function snapshotInstallation(store: Store, facts: InstallationFacts): Promise<InstallationSnapshot> {
  const perAccount = <T>(read: (accountId: string) => Promise<T>) => Promise.all(facts.accountIds.map(read));
  const perDevice = <T>(read: (deviceId: string) => Promise<T>) => Promise.all(facts.deviceIds.map(read));
  return {
    accounts: await perAccount((id) => store.getAccount(id)),
    devices: await perAccount((id) => store.listDevices(id)),
    inboxes: await perDevice((id) => store.readInbox(id, 0, 1000)),
    preKeys: await perDevice((id) => store.countPreKeys(id)),
    security: await perAccount((id) => store.getSecurity(id)),
    events: await perAccount((id) => store.listSecurityEvents(id, 100)),
    contacts: await perAccount(async (id) => (await store.listContactAccounts(id)).sort()),
    pendingLink: await store.getPendingLink(facts.pendingTokenHash, FIXTURE_T0),
  };
}

/** The fixture's snapshot holds what the fixture wrote (so that comparing two is not comparing nothing). */
export function expectFilledSnapshot(snapshot: InstallationSnapshot): void {
  expect(snapshot.accounts.every((row) => row !== null)).toBe(true);
  expect(snapshot.devices.map((devices) => devices.length)).toEqual([2, 1]);
  // alice's primary: one message from bob; her companion: three copies and one message; bob: two.
  expect(snapshot.inboxes.map((rows) => rows.length)).toEqual([1, 3, 2]);
  expect(snapshot.security[0]?.pinFailures).toBe(2);
  expect(snapshot.events[0]).toHaveLength(2);
  expect(snapshot.contacts[0]!.length).toBeGreaterThan(0);
  expect(snapshot.pendingLink).not.toBeNull();
}

/**
 * Flips bytes at the end of `index`'s root page in the closed SQLite file, where SQLite keeps the
 * cells, as a failing disk would: the table and its index then disagree.
 */
export async function corruptIndex(file: string, index: string): Promise<void> {
  const db = new Sqlite(file, { readonly: true });
  const page = db.prepare('select rootpage from sqlite_master where name = ?').pluck().get(index) as number;
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.close();
  const bytes = await readFile(file);
  for (let i = page * pageSize - 40; i < page * pageSize - 8; i++) bytes[i] = bytes[i]! ^ 0x5a;
  await writeFile(file, bytes);
}
