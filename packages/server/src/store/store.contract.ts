/**
 * The Store contract: every behaviour store.ts documents, as vitest tests, run against each
 * implementation (sqlite-store.test.ts, postgres-store.test.ts). Test titles carry SSTORE rule
 * ids; one file because it is one interface's specification.
 * @module
 */
import { randomBytes } from 'node:crypto';
import {
  DAY_MS,
  DEFAULT_INACTIVE_DAYS,
  DEFAULT_PHONE_UNUSED_DAYS,
  PHONE_UNUSED_WARNING_DAYS,
  SECURITY_LOG_MAX_EVENTS,
  SECURITY_LOG_MAX_SETTING_EVENTS,
} from '@pairwise/protocol/limits';
import { signDeviceList } from '@pairwise/crypto/device-list';
import { generateAccountIdentity, generateDeviceIdentity, publicIdentity } from '@pairwise/crypto/keys';
import { sql, type Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodePreKeyUpload } from './pre-key-upload-codec.js';
import type {
  AccountRow,
  AccountSecurityRow,
  DeviceKind,
  DeviceRow,
  EnqueueInput,
  InboxRow,
  OneTimePreKeyRow,
  PendingLinkRow,
  PreKeyUploadRow,
  SecurityEventRow,
  SignedBodyRow,
  SignedPreKeyRow,
  Store,
} from './store.js';

const MINUTE = 60 * 1000;
const DAY = 24 * 60 * MINUTE;
/** A whole minute, so that rounding down to the minute leaves it alone. */
const T0 = Date.UTC(2025, 0, 1, 12, 0);
const INBOX_LIFETIME = 30 * DAY;

const random = (length: number): Uint8Array => new Uint8Array(randomBytes(length));
const newDeviceId = (): string => randomBytes(16).toString('hex');
const list = (): SignedBodyRow => ({ body: random(100), signature: random(64) });
const signedPreKey = (id: number): SignedPreKeyRow => ({ id, publicKey: random(32), signature: random(64) });
const pqPreKey = (id: number): SignedPreKeyRow => ({ id, publicKey: random(1184), signature: random(64) });
const oneTimePreKeys = (ids: readonly number[]): OneTimePreKeyRow[] => ids.map((id) => ({ id, publicKey: random(32) }));
/** A list expiry far beyond the tests' clock: only the tests of expired lists use another. */
const FAR = T0 + 365 * DAY;
/** The handlers' limits on one-time prekeys per device. */
const LIMITS = { oneTime: 200, pqOneTime: 100 };

function upload(oneTimeIds: readonly number[], signedId: number | null = 1): PreKeyUploadRow {
  return {
    signedPreKey: signedId === null ? null : signedPreKey(signedId),
    pqPreKey: signedId === null ? null : pqPreKey(signedId),
    oneTimePreKeys: oneTimePreKeys(oneTimeIds),
    pqOneTimePreKeys: [],
  };
}

function deviceRow(accountId: string, kind: DeviceKind, linkedAt = T0, temporary = false): DeviceRow {
  return {
    deviceId: newDeviceId(),
    accountId,
    kind,
    signingKey: random(32),
    agreementKey: random(32),
    name: kind === 'primary' ? 'Phone' : 'Chrome on Linux',
    linkedAt,
    lastActiveAt: linkedAt,
    temporary,
    userAgent: kind === 'primary' ? '' : 'Mozilla/5.0 (X11; Linux x86_64)',
    network: '192.0.2.0/24',
    disconnectedAt: null,
    // A primary attests with its registration; a companion right after it is linked (linkNew below).
    attestation: kind === 'primary' ? random(64) : null,
  };
}

function accountRow(accountId: string, version = 1): AccountRow {
  return { accountId, identityKey: random(32), deviceList: list(), deviceListVersion: version, deviceListExpiresAt: FAR, createdAt: T0 };
}

function pendingLink(device: DeviceRow, expiresAt = T0 + MINUTE, oneTimeIds: readonly number[] = [1, 2]): PendingLinkRow {
  return {
    tokenHash: random(32),
    createdAt: expiresAt - MINUTE,
    expiresAt,
    ipAddress: '192.0.2.7',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
    deviceName: device.name,
    temporary: device.temporary,
    deviceId: device.deviceId,
    signingKey: device.signingKey,
    agreementKey: device.agreementKey,
    preKeys: upload(oneTimeIds, 7),
  };
}

/** Plain Uint8Array, not a Buffer or another subclass. */
function expectPlainBytes(value: Uint8Array, expected: Uint8Array): void {
  expect(Object.getPrototypeOf(value)).toBe(Uint8Array.prototype);
  expect([...value]).toEqual([...expected]);
}

function securityEvent(accountId: string, at: number, kind: SecurityEventRow['kind'] = 'pin-failed'): SecurityEventRow {
  return { accountId, at, kind, deviceId: newDeviceId(), deviceName: 'Chrome on Linux', actor: kind === 'device-removed' ? 'phone' : '', network: '198.51.100.0/24' };
}

/**
 * Gives a store on a database that an older release made: `seed` runs on a fresh database at
 * the first migration (the schema before issue 5, tables as in migrations.ts' `initialSchema`),
 * then the store opens it, migrating it to the latest schema.
 */
export type OpenFromPrevious = (seed: (db: Kysely<unknown>) => Promise<void>) => Promise<Store>;

/** Another session's hold on a device's inbox-writer lock (PostgreSQL: kysely-store.ts). */
export interface InboxWriterLock {
  /** How many sessions wait for an inbox-writer lock. */
  waiters(): Promise<number>;
  release(): Promise<void>;
}

/**
 * Registers the contract's tests for one Store implementation; `open` gives a fresh, empty
 * store, `openFromPrevious` one migrated from the previous schema. `holdInboxWriterLock` takes a
 * device's inbox-writer lock from outside the store, where the database has such locks.
 */
export function describeStoreContract(
  name: string,
  open: () => Promise<Store>,
  openFromPrevious: OpenFromPrevious,
  holdInboxWriterLock: ((deviceId: string) => Promise<InboxWriterLock>) | null = null,
): void {
  describe(`Store contract (${name})`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    async function register(accountId: string, oneTimeIds: readonly number[] = [1, 2, 3]) {
      const account = accountRow(accountId);
      const primary = deviceRow(accountId, 'primary');
      const preKeys = upload(oneTimeIds);
      expect(await store.createAccount({ account, device: primary, preKeys })).toBe('created');
      return { account, primary, preKeys };
    }

    /** Links a companion the way the linking handler does; returns it and the new list. */
    async function linkNew(accountId: string, linkedAt = T0 + MINUTE, maxCompanions = 4, temporary = false) {
      const device = deviceRow(accountId, 'companion', linkedAt, temporary);
      const link = pendingLink(device, linkedAt + MINUTE);
      await store.createPendingLink(link);
      const account = (await store.getAccount(accountId))!;
      const newList = list();
      const result = await store.linkCompanion({
        tokenHash: link.tokenHash,
        now: linkedAt,
        accountId,
        expectedListVersion: account.deviceListVersion,
        newList,
        newListExpiresAt: FAR,
        maxCompanions,
        device,
      });
      // As the companion does once it has opened the link bundle (SPEC ATTEST-1).
      const attestation = random(64);
      if (result === 'linked') expect(await store.setAttestation(device.deviceId, attestation)).toBe(true);
      return { device: result === 'linked' ? { ...device, attestation } : device, link, newList, result };
    }

    function message(sender: DeviceRow, recipientAccountId: string, deviceIds: readonly string[], now = T0, clientMessageId = random(16)): EnqueueInput {
      return {
        senderAccountId: sender.accountId,
        senderDeviceId: sender.deviceId,
        recipientAccountId,
        clientMessageId,
        envelopes: deviceIds.map((deviceId) => ({ deviceId, content: random(48) })),
        now,
        expiresAt: now + INBOX_LIFETIME,
      };
    }

    async function inboxOf(deviceId: string): Promise<InboxRow[]> {
      return store.readInbox(deviceId, 0, 1000);
    }

    it('[SSTORE-1] an account is stored with its primary device and prekeys and read back as given', async () => {
      const { account, primary } = await register('alice', [5]);
      expect(await store.getAccount('alice')).toEqual(account);
      expect(await store.getDevice(primary.deviceId)).toEqual(primary);
      expect((await store.countPreKeys(primary.deviceId)).oneTime).toBe(1);
      expect(await store.getAccount('nobody')).toBeNull();
      expect(await store.getDevice(newDeviceId())).toBeNull();
      expect(['sqlite', 'postgres']).toContain(store.kind);
    });

    it('[SSTORE-2] createAccount refuses a taken username and a taken device id, storing nothing', async () => {
      const { primary } = await register('alice');
      const again = await store.createAccount({ account: accountRow('alice', 9), device: deviceRow('alice', 'primary'), preKeys: upload([1]) });
      expect(again).toBe('username-taken');
      expect((await store.getAccount('alice'))!.deviceListVersion).toBe(1);

      const bob = accountRow('bob');
      const stolen: DeviceRow = { ...deviceRow('bob', 'primary'), deviceId: primary.deviceId };
      expect(await store.createAccount({ account: bob, device: stolen, preKeys: upload([1]) })).toBe('device-id-taken');
      expect(await store.getAccount('bob')).toBeNull();
      expect((await store.getDevice(primary.deviceId))!.accountId).toBe('alice');
      expect((await store.countPreKeys(primary.deviceId)).oneTime).toBe(3);
    });

    it('[SSTORE-3] listDevices gives the primary first, then companions by linkedAt', async () => {
      const { primary } = await register('alice');
      const later = await linkNew('alice', T0 + 5 * MINUTE);
      const earlier = await linkNew('alice', T0 + 2 * MINUTE);
      expect((await store.listDevices('alice')).map((d) => d.deviceId)).toEqual([primary.deviceId, earlier.device.deviceId, later.device.deviceId]);
      expect(await store.listDevices('nobody')).toEqual([]);
    });

    it('[SSTORE-4] a pending link reads back whole until it expires; expired links are swept', async () => {
      const companion = deviceRow('alice', 'companion');
      const link = pendingLink(companion, T0 + MINUTE);
      await store.createPendingLink(link);
      expect(await store.getPendingLink(link.tokenHash, T0)).toEqual(link);
      expect(await store.getPendingLink(link.tokenHash, T0 + MINUTE)).toBeNull();
      expect(await store.getPendingLink(random(32), T0)).toBeNull();

      const later = pendingLink(deviceRow('alice', 'companion'), T0 + 10 * MINUTE);
      await store.createPendingLink(later);
      expect(await store.deleteExpiredLinks(T0 + 2 * MINUTE)).toBe(1);
      expect(await store.getPendingLink(later.tokenHash, T0)).not.toBeNull();
      await store.deletePendingLink(later.tokenHash);
      expect(await store.getPendingLink(later.tokenHash, T0)).toBeNull();
      expect(await store.deleteExpiredLinks(T0 + DAY)).toBe(0);
    });

    it('[SSTORE-5] linkCompanion registers the device with its prekeys, replaces the list, and a token works once', async () => {
      await register('alice');
      const { device, link, newList, result } = await linkNew('alice');
      expect(result).toBe('linked');
      expect(await store.getDevice(device.deviceId)).toEqual(device);
      const account = (await store.getAccount('alice'))!;
      expect(account.deviceListVersion).toBe(2);
      expect(account.deviceList).toEqual(newList);
      expect((await store.countPreKeys(device.deviceId)).oneTime).toBe(2);
      const bundle = (await store.takeBundles('alice')).find((b) => b.device.deviceId === device.deviceId)!;
      expect(bundle.signedPreKey).toEqual(link.preKeys.signedPreKey);
      expect(bundle.pqPreKey).toEqual(link.preKeys.pqPreKey);
      expect(bundle.oneTimePreKey).toEqual(link.preKeys.oneTimePreKeys[0]);
      expect(await store.getPendingLink(link.tokenHash, T0)).toBeNull();

      const second = await store.linkCompanion({
        tokenHash: link.tokenHash,
        now: T0 + MINUTE,
        accountId: 'alice',
        expectedListVersion: 2,
        newList: list(),
        newListExpiresAt: FAR,
        maxCompanions: 4,
        device,
      });
      expect(second).toBe('token-invalid');
      expect((await store.getAccount('alice'))!.deviceListVersion).toBe(2);
    });

    it('[SSTORE-6] linkCompanion refuses an unknown or expired token and changes nothing', async () => {
      await register('alice');
      const device = deviceRow('alice', 'companion');
      const link = pendingLink(device, T0 + MINUTE);
      await store.createPendingLink(link);
      const input = { accountId: 'alice', expectedListVersion: 1, newList: list(), newListExpiresAt: FAR, maxCompanions: 4, device };
      expect(await store.linkCompanion({ ...input, tokenHash: random(32), now: T0 })).toBe('token-invalid');
      expect(await store.linkCompanion({ ...input, tokenHash: link.tokenHash, now: T0 + MINUTE })).toBe('token-invalid');
      expect(await store.getDevice(device.deviceId)).toBeNull();
      expect((await store.getAccount('alice'))!.deviceListVersion).toBe(1);
    });

    it('[SSTORE-7] linkCompanion refuses a stale list version, changes nothing, and the token stays usable', async () => {
      await register('alice');
      const device = deviceRow('alice', 'companion');
      const link = pendingLink(device, T0 + MINUTE);
      await store.createPendingLink(link);
      const input = { tokenHash: link.tokenHash, now: T0, accountId: 'alice', newList: list(), newListExpiresAt: FAR, maxCompanions: 4, device };
      expect(await store.linkCompanion({ ...input, expectedListVersion: 0 })).toBe('stale-list');
      expect(await store.getDevice(device.deviceId)).toBeNull();
      expect((await store.getAccount('alice'))!.deviceListVersion).toBe(1);
      expect(await store.getPendingLink(link.tokenHash, T0)).not.toBeNull();
      expect(await store.linkCompanion({ ...input, expectedListVersion: 1 })).toBe('linked');
    });

    it('[SSTORE-7] of two links racing on the same list version exactly one succeeds', async () => {
      await register('alice');
      const attempts = [deviceRow('alice', 'companion'), deviceRow('alice', 'companion')].map(async (device) => {
        const link = pendingLink(device, T0 + MINUTE);
        await store.createPendingLink(link);
        return { tokenHash: link.tokenHash, now: T0, accountId: 'alice', expectedListVersion: 1, newList: list(), newListExpiresAt: FAR, maxCompanions: 4, device };
      });
      const inputs = await Promise.all(attempts);
      const results = await Promise.all(inputs.map((input) => store.linkCompanion(input)));
      expect(results.sort()).toEqual(['linked', 'stale-list']);
      expect(await store.listDevices('alice')).toHaveLength(2);
    });

    it('[SSTORE-8] linkCompanion refuses a companion beyond maxCompanions', async () => {
      await register('alice');
      expect((await linkNew('alice', T0 + MINUTE, 2)).result).toBe('linked');
      expect((await linkNew('alice', T0 + 2 * MINUTE, 2)).result).toBe('linked');
      const third = await linkNew('alice', T0 + 3 * MINUTE, 2);
      expect(third.result).toBe('too-many-companions');
      expect(await store.getDevice(third.device.deviceId)).toBeNull();
      expect(await store.listDevices('alice')).toHaveLength(3);
      expect((await store.getAccount('alice'))!.deviceListVersion).toBe(3);
    });

    it('[SSTORE-9] linkCompanion refuses a device id that is already registered', async () => {
      const bob = await register('bob');
      await register('alice');
      const device: DeviceRow = { ...deviceRow('alice', 'companion'), deviceId: bob.primary.deviceId };
      const link = pendingLink(device, T0 + MINUTE);
      await store.createPendingLink(link);
      const result = await store.linkCompanion({
        tokenHash: link.tokenHash,
        now: T0,
        accountId: 'alice',
        expectedListVersion: 1,
        newList: list(),
        newListExpiresAt: FAR,
        maxCompanions: 4,
        device,
      });
      expect(result).toBe('device-id-taken');
      expect((await store.getDevice(bob.primary.deviceId))!.accountId).toBe('bob');
      expect((await store.getAccount('alice'))!.deviceListVersion).toBe(1);
    });

    it('[SSTORE-10] removeDevice deletes the device with its prekeys and inbox, and replaces the list', async () => {
      const alice = await register('alice');
      const bob = await register('bob');
      const { device: companion } = await linkNew('alice');
      const sent = await store.enqueue(message(bob.primary, 'alice', [alice.primary.deviceId, companion.deviceId]));
      expect(sent.status).toBe('accepted');
      expect(await inboxOf(companion.deviceId)).toHaveLength(1);

      const newList = list();
      expect(await store.removeDevice(companion.deviceId, { expectedVersion: 2, newList, expiresAt: FAR })).toBe('removed');
      expect(await store.getDevice(companion.deviceId)).toBeNull();
      expect((await store.countPreKeys(companion.deviceId)).oneTime).toBe(0);
      expect(await inboxOf(companion.deviceId)).toEqual([]);
      expect(await inboxOf(alice.primary.deviceId)).toHaveLength(1);
      expect((await store.takeBundles('alice')).map((b) => b.device.deviceId)).toEqual([alice.primary.deviceId]);
      const account = (await store.getAccount('alice'))!;
      expect(account.deviceListVersion).toBe(3);
      expect(account.deviceList).toEqual(newList);

      expect(await store.removeDevice(companion.deviceId, null)).toBe('unknown-device');
    });

    it('[SSTORE-10] removeDevice without an update leaves the list alone', async () => {
      await register('alice');
      const { device } = await linkNew('alice');
      expect(await store.removeDevice(device.deviceId, null)).toBe('removed');
      expect(await store.getDevice(device.deviceId)).toBeNull();
      expect((await store.getAccount('alice'))!.deviceListVersion).toBe(2);
    });

    it('[SSTORE-11] removeDevice with a stale list version changes nothing', async () => {
      await register('alice');
      const { device } = await linkNew('alice');
      expect(await store.removeDevice(device.deviceId, { expectedVersion: 1, newList: list(), expiresAt: FAR })).toBe('stale-list');
      expect(await store.getDevice(device.deviceId)).not.toBeNull();
      expect((await store.countPreKeys(device.deviceId)).oneTime).toBe(2);
      expect((await store.getAccount('alice'))!.deviceListVersion).toBe(2);
    });

    it('[SSTORE-12] replaceDeviceList replaces only the version it was built on', async () => {
      await register('alice');
      const newList = list();
      expect(await store.replaceDeviceList('alice', { expectedVersion: 1, newList, expiresAt: FAR })).toBe(true);
      expect(await store.replaceDeviceList('alice', { expectedVersion: 1, newList: list(), expiresAt: FAR })).toBe(false);
      const account = (await store.getAccount('alice'))!;
      expect(account.deviceListVersion).toBe(2);
      expect(account.deviceList).toEqual(newList);
      expect(await store.replaceDeviceList('nobody', { expectedVersion: 1, newList, expiresAt: FAR })).toBe(false);
    });

    it('[SSTORE-13] touchDevice records activity rounded down to the minute', async () => {
      const { primary } = await register('alice');
      await store.touchDevice(primary.deviceId, T0 + 3 * MINUTE + 59_999);
      expect((await store.getDevice(primary.deviceId))!.lastActiveAt).toBe(T0 + 3 * MINUTE);
      await store.touchDevice(primary.deviceId, T0 + 7 * MINUTE + 1);
      expect((await store.getDevice(primary.deviceId))!.lastActiveAt).toBe(T0 + 7 * MINUTE);
      await store.touchDevice(newDeviceId(), T0);
    });

    it('[SSTORE-50] sends made at once each get their own outcome: a refused one stores nothing and spoils none of the others', async () => {
      const alice = await register('alice');
      const bob = await register('bob');
      const carol = await register('carol');
      const good = Array.from({ length: 20 }, (_, i) => message(alice.primary, 'bob', [bob.primary.deviceId], T0 + i));
      const wrongDevices = message(alice.primary, 'bob', [carol.primary.deviceId]);
      const repeated = message(carol.primary, 'bob', [bob.primary.deviceId]);
      const results = await Promise.all([...good, wrongDevices, repeated, repeated].map((input) => store.enqueue(input)));
      expect(results.slice(0, 20).every((result) => result.status === 'accepted')).toBe(true);
      expect(results[20]).toEqual({ status: 'devices-changed' });
      expect(results.slice(21).map((result) => result.status).sort()).toEqual(['accepted', 'duplicate']);
      expect(await inboxOf(bob.primary.deviceId)).toHaveLength(21);
      expect(await inboxOf(carol.primary.deviceId)).toEqual([]);
      // The refused send's id was not used up.
      expect((await store.enqueue({ ...wrongDevices, envelopes: [{ deviceId: bob.primary.deviceId, content: random(8) }] })).status).toBe('accepted');
    });

    it.skipIf(holdInboxWriterLock === null)(
      "[SSTORE-54] a send waits only for the other writers of its recipients' inboxes: sends and updates that merely read those devices pass it",
      async () => {
        const alice = await register('alice');
        const bob = await register('bob');
        const carol = await register('carol');
        const lock = await holdInboxWriterLock!(bob.primary.deviceId);
        let settled = false;
        const blocked = store.enqueue(message(alice.primary, 'bob', [bob.primary.deviceId])).finally(() => {
          settled = true;
        });
        try {
          // The send is inside its transaction, holding its locks on both accounts and their devices.
          const start = Date.now();
          while ((await lock.waiters()) === 0) {
            if (Date.now() - start > 5000) throw new Error('the send never waited for the inbox-writer lock');
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          const passing = async () => {
            // Bob's device is read by this send (its sender) and updated by the touch: neither waits.
            expect((await store.enqueue(message(bob.primary, 'carol', [carol.primary.deviceId]))).status).toBe('accepted');
            await store.touchDevices([bob.primary.deviceId, alice.primary.deviceId], T0 + 5 * MINUTE);
            return 'passed';
          };
          const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('waited behind the blocked send'), 3000));
          expect(await Promise.race([passing(), timeout])).toBe('passed');
          expect(settled).toBe(false);
        } finally {
          await lock.release();
        }
        expect((await blocked).status).toBe('accepted');
        expect(await inboxOf(bob.primary.deviceId)).toHaveLength(1);
        expect((await store.getDevice(bob.primary.deviceId))!.lastActiveAt).toBe(T0 + 5 * MINUTE);
      },
    );

    it('[SSTORE-49] touchDevices records activity of many devices at once, only forward', async () => {
      const { primary } = await register('alice');
      const { primary: other } = await register('bob');
      await store.touchDevice(other.deviceId, T0 + 9 * MINUTE);
      await store.touchDevices([primary.deviceId, other.deviceId, newDeviceId()], T0 + 5 * MINUTE + 30_000);
      expect((await store.getDevice(primary.deviceId))!.lastActiveAt).toBe(T0 + 5 * MINUTE);
      // A later activity is never moved back.
      expect((await store.getDevice(other.deviceId))!.lastActiveAt).toBe(T0 + 9 * MINUTE);
      await store.touchDevices([], T0);
    });

    it('[SSTORE-14] addPreKeys replaces signed prekeys, adds one-time prekeys and counts them', async () => {
      const { primary } = await register('alice', [1, 2]);
      const next = upload([3, 4, 5], 2);
      expect(await store.addPreKeys(primary.deviceId, next, LIMITS)).toEqual({ oneTime: 5, pqOneTime: 0 });
      expect((await store.countPreKeys(primary.deviceId)).oneTime).toBe(5);
      const [bundle] = await store.takeBundles('alice');
      expect(bundle!.signedPreKey).toEqual(next.signedPreKey);
      expect(bundle!.pqPreKey).toEqual(next.pqPreKey);

      // Only the ML-KEM prekey: the X25519 one stays.
      const pqOnly: PreKeyUploadRow = { signedPreKey: null, pqPreKey: pqPreKey(3), oneTimePreKeys: [], pqOneTimePreKeys: [] };
      expect(await store.addPreKeys(primary.deviceId, pqOnly, LIMITS)).toEqual({ oneTime: 4, pqOneTime: 0 });
      const [after] = await store.takeBundles('alice');
      expect(after!.signedPreKey).toEqual(next.signedPreKey);
      expect(after!.pqPreKey).toEqual(pqOnly.pqPreKey);
      expect(await store.countPreKeys(newDeviceId())).toEqual({ oneTime: 0, pqOneTime: 0 });
    });

    it('[SSTORE-15] takeBundles gives one bundle per device with signed prekeys, each taking its lowest one-time prekey once', async () => {
      const alice = await register('alice', [9, 4]);
      const { device: companion } = await linkNew('alice');

      const first = await store.takeBundles('alice');
      expect(first.map((b) => b.device.deviceId)).toEqual([alice.primary.deviceId, companion.deviceId]);
      expect(first[0]!.device).toEqual(alice.primary);
      expect(first[0]!.oneTimePreKey).toEqual(alice.preKeys.oneTimePreKeys[1]);
      expect(first[0]!.remaining.oneTime).toBe(1);
      const second = await store.takeBundles('alice');
      expect(second[0]!.oneTimePreKey!.id).toBe(9);
      expect(second[0]!.remaining.oneTime).toBe(0);
      const third = await store.takeBundles('alice');
      expect(third[0]!.oneTimePreKey).toBeNull();
      expect(third[0]!.remaining.oneTime).toBe(0);
      expect(third[0]!.signedPreKey).toEqual(alice.preKeys.signedPreKey);
      expect(await store.takeBundles('nobody')).toEqual([]);
    });

    it('[SSTORE-15] takeBundles with device ids takes only from the named devices of the account', async () => {
      const alice = await register('alice', [1, 2]);
      const bob = await register('bob');
      const { device: companion } = await linkNew('alice');
      const named = await store.takeBundles('alice', [companion.deviceId, bob.primary.deviceId, newDeviceId()]);
      expect(named.map((b) => b.device.deviceId)).toEqual([companion.deviceId]);
      expect((await store.countPreKeys(alice.primary.deviceId)).oneTime).toBe(2);
      expect((await store.countPreKeys(bob.primary.deviceId)).oneTime).toBe(3);
      expect(await store.takeBundles('alice', [])).toEqual([]);
      expect((await store.takeBundles('alice', null)).map((b) => b.device.deviceId)).toEqual([alice.primary.deviceId, companion.deviceId]);
    });

    it('[SSTORE-15] a device without signed prekeys has no bundle', async () => {
      const account = accountRow('carol');
      const primary = deviceRow('carol', 'primary');
      expect(await store.createAccount({ account, device: primary, preKeys: upload([1], null) })).toBe('created');
      expect(await store.takeBundles('carol')).toEqual([]);
      expect((await store.countPreKeys(primary.deviceId)).oneTime).toBe(1);
    });

    it('[SSTORE-16] concurrent takeBundles never hand out the same one-time prekey', async () => {
      const ids = Array.from({ length: 20 }, (_, i) => i + 1);
      const { primary } = await register('alice', ids);
      const bundles = await Promise.all(Array.from({ length: 10 }, () => store.takeBundles('alice')));
      const taken = bundles.map((b) => b[0]!.oneTimePreKey?.id);
      expect(taken.every((id) => id !== undefined)).toBe(true);
      expect(new Set(taken).size).toBe(10);
      expect((await store.countPreKeys(primary.deviceId)).oneTime).toBe(10);
    });

    it('[SSTORE-17] an accepted send stores one row per envelope, in seq order per device', async () => {
      const alice = await register('alice');
      const bob = await register('bob');
      const { device: aliceLaptop } = await linkNew('alice');
      const first = message(alice.primary, 'bob', [bob.primary.deviceId, aliceLaptop.deviceId]);
      const result = await store.enqueue(first);
      expect(result.status).toBe('accepted');
      if (result.status !== 'accepted') return;
      expect(result.seqs.map((s) => s.deviceId)).toEqual([bob.primary.deviceId, aliceLaptop.deviceId]);

      const [row] = await inboxOf(bob.primary.deviceId);
      expect(row).toEqual({
        seq: result.seqs[0]!.seq,
        deviceId: bob.primary.deviceId,
        serverTime: T0,
        item: {
          kind: 'message',
          senderAccountId: 'alice',
          senderDeviceId: alice.primary.deviceId,
          clientMessageId: first.clientMessageId,
          content: first.envelopes[0]!.content,
        },
      });
      const second = await store.enqueue(message(alice.primary, 'bob', [bob.primary.deviceId, aliceLaptop.deviceId], T0 + 1));
      const third = await store.enqueue(message(aliceLaptop, 'bob', [bob.primary.deviceId, alice.primary.deviceId], T0 + 2));
      expect([second.status, third.status]).toEqual(['accepted', 'accepted']);
      const seqs = (await inboxOf(bob.primary.deviceId)).map((r) => r.seq);
      expect(seqs).toHaveLength(3);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      expect(new Set(seqs).size).toBe(3);
    });

    it('[SSTORE-18] a repeated client message id from the same device is a duplicate and stores nothing', async () => {
      const alice = await register('alice');
      const bob = await register('bob');
      const input = message(alice.primary, 'bob', [bob.primary.deviceId]);
      expect((await store.enqueue(input)).status).toBe('accepted');
      expect(await store.enqueue(input)).toEqual({ status: 'duplicate' });
      const rows = await inboxOf(bob.primary.deviceId);
      expect(rows).toHaveLength(1);

      // Still a duplicate once the recipient has acknowledged (and so deleted) the row.
      expect(await store.ackInbox(bob.primary.deviceId, [rows[0]!.seq])).toBe(1);
      expect(await store.enqueue({ ...input, now: T0 + DAY })).toEqual({ status: 'duplicate' });
      expect(await inboxOf(bob.primary.deviceId)).toEqual([]);

      // The id is the sender device's: another device may use the same bytes.
      const reply = message(bob.primary, 'alice', [alice.primary.deviceId], T0, input.clientMessageId);
      expect((await store.enqueue(reply)).status).toBe('accepted');
    });

    it('[SSTORE-18] of concurrent identical sends exactly one is accepted', async () => {
      const alice = await register('alice');
      const bob = await register('bob');
      const input = message(alice.primary, 'bob', [bob.primary.deviceId]);
      const results = await Promise.all(Array.from({ length: 5 }, () => store.enqueue(input)));
      expect(results.filter((r) => r.status === 'accepted')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'duplicate')).toHaveLength(4);
      expect(await inboxOf(bob.primary.deviceId)).toHaveLength(1);
    });

    it('[SSTORE-19] a send whose envelopes are not exactly the current devices is refused and stores nothing', async () => {
      const alice = await register('alice');
      const bob = await register('bob');
      const { device: aliceLaptop } = await linkNew('alice');
      const { device: bobLaptop } = await linkNew('bob');
      const everyone = [bob.primary.deviceId, bobLaptop.deviceId, aliceLaptop.deviceId];
      const wrong = [
        [bob.primary.deviceId, bobLaptop.deviceId], // the sender's other device is missing
        [bob.primary.deviceId, aliceLaptop.deviceId], // a recipient device is missing
        [...everyone, alice.primary.deviceId], // the sender device itself
        [...everyone, newDeviceId()], // an unknown device
        [...everyone, bob.primary.deviceId], // a device twice
      ];
      const clientMessageId = random(16);
      for (const deviceIds of wrong) {
        expect(await store.enqueue(message(alice.primary, 'bob', deviceIds, T0, clientMessageId))).toEqual({ status: 'devices-changed' });
      }
      expect(await store.enqueue(message(alice.primary, 'nobody', [aliceLaptop.deviceId]))).toEqual({ status: 'devices-changed' });
      for (const deviceId of [...everyone, alice.primary.deviceId]) expect(await inboxOf(deviceId)).toEqual([]);
      expect(await store.listContactAccounts('alice')).toEqual([]);

      // The refused sends did not use up the client message id.
      expect((await store.enqueue(message(alice.primary, 'bob', everyone, T0, clientMessageId))).status).toBe('accepted');
    });

    it('[SSTORE-19] a send from a removed device is refused', async () => {
      const alice = await register('alice');
      const bob = await register('bob');
      const { device: aliceLaptop } = await linkNew('alice');
      await store.removeDevice(aliceLaptop.deviceId, null);
      expect(await store.enqueue(message(aliceLaptop, 'bob', [bob.primary.deviceId, alice.primary.deviceId]))).toEqual({ status: 'devices-changed' });
      expect(await inboxOf(bob.primary.deviceId)).toEqual([]);
    });

    it("[SSTORE-20] a send to one's own account goes to the sender's other devices only", async () => {
      const alice = await register('alice');
      const { device: laptop } = await linkNew('alice');
      expect((await store.enqueue(message(alice.primary, 'alice', [laptop.deviceId]))).status).toBe('accepted');
      expect(await inboxOf(laptop.deviceId)).toHaveLength(1);
      expect(await store.enqueue(message(alice.primary, 'alice', [laptop.deviceId, alice.primary.deviceId]))).toEqual({
        status: 'devices-changed',
      });
    });

    it('[SSTORE-21] readInbox pages by afterSeq and limit in seq order', async () => {
      const alice = await register('alice');
      const bob = await register('bob');
      for (let i = 0; i < 5; i++) await store.enqueue(message(alice.primary, 'bob', [bob.primary.deviceId], T0 + i));
      const all = await inboxOf(bob.primary.deviceId);
      expect(all.map((r) => r.serverTime)).toEqual([T0, T0 + 1, T0 + 2, T0 + 3, T0 + 4]);
      const page = await store.readInbox(bob.primary.deviceId, all[1]!.seq, 2);
      expect(page.map((r) => r.seq)).toEqual([all[2]!.seq, all[3]!.seq]);
      expect(await store.readInbox(bob.primary.deviceId, all[4]!.seq, 10)).toEqual([]);
      expect(await store.readInbox(alice.primary.deviceId, 0, 10)).toEqual([]);
    });

    it("[SSTORE-22] ackInbox deletes only the given device's rows and counts them", async () => {
      const alice = await register('alice');
      const bob = await register('bob');
      const { device: bobLaptop } = await linkNew('bob');
      const result = await store.enqueue(message(alice.primary, 'bob', [bob.primary.deviceId, bobLaptop.deviceId]));
      if (result.status !== 'accepted') throw new Error(`send ${result.status}`);
      const laptopSeq = result.seqs.find((s) => s.deviceId === bobLaptop.deviceId)!.seq;
      const phoneSeq = result.seqs.find((s) => s.deviceId === bob.primary.deviceId)!.seq;
      expect(await store.ackInbox(bob.primary.deviceId, [laptopSeq])).toBe(0);
      expect(await inboxOf(bobLaptop.deviceId)).toHaveLength(1);
      expect(await store.ackInbox(bob.primary.deviceId, [phoneSeq, phoneSeq + 1000])).toBe(1);
      expect(await inboxOf(bob.primary.deviceId)).toEqual([]);
      expect(await store.ackInbox(bobLaptop.deviceId, [])).toBe(0);
    });

    it("[SSTORE-48] ackInboxMany deletes each device's own acknowledged rows, for several devices at once", async () => {
      const alice = await register('alice');
      const bob = await register('bob');
      const { device: bobLaptop } = await linkNew('bob');
      const seqsOf = async () => {
        const result = await store.enqueue(message(alice.primary, 'bob', [bob.primary.deviceId, bobLaptop.deviceId]));
        if (result.status !== 'accepted') throw new Error(`send ${result.status}`);
        return { phone: result.seqs.find((s) => s.deviceId === bob.primary.deviceId)!.seq, laptop: result.seqs.find((s) => s.deviceId === bobLaptop.deviceId)!.seq };
      };
      const first = await seqsOf();
      const second = await seqsOf();
      // The laptop's seq named for the phone deletes nothing; each device's own go.
      const deleted = await store.ackInboxMany([
        { deviceId: bob.primary.deviceId, seqs: [first.phone, first.laptop] },
        { deviceId: bobLaptop.deviceId, seqs: [first.laptop, second.laptop, second.laptop] },
        { deviceId: bobLaptop.deviceId, seqs: [] },
      ]);
      expect(deleted).toBe(3);
      expect((await inboxOf(bob.primary.deviceId)).map((row) => row.seq)).toEqual([second.phone]);
      expect(await inboxOf(bobLaptop.deviceId)).toEqual([]);
      expect(await store.ackInboxMany([])).toBe(0);
    });

    it('[SSTORE-51] countInbox counts the rows waiting in every inbox, and falls as they are acknowledged', async () => {
      expect(await store.countInbox()).toBe(0);
      const alice = await register('alice');
      const bob = await register('bob');
      const { device: bobLaptop } = await linkNew('bob');
      const seqs: { deviceId: string; seq: number }[] = [];
      for (let i = 0; i < 3; i++) {
        const result = await store.enqueue(message(alice.primary, 'bob', [bob.primary.deviceId, bobLaptop.deviceId], T0 + i));
        if (result.status !== 'accepted') throw new Error(`send ${result.status}`);
        seqs.push(...result.seqs);
      }
      // A refused send adds nothing.
      await store.enqueue(message(alice.primary, 'bob', [bob.primary.deviceId]));
      expect(await store.countInbox()).toBe(6);
      await store.ackInboxMany(seqs.slice(0, 4).map(({ deviceId, seq }) => ({ deviceId, seqs: [seq] })));
      expect(await store.countInbox()).toBe(2);
    });

    it('[SSTORE-52] check answers while the database does; commits of sends are observed with their size and time', async () => {
      await expect(store.check()).resolves.toBeUndefined();
      const alice = await register('alice');
      const bob = await register('bob');
      const commits: { sends: number; seconds: number }[] = [];
      store.observeCommits((sends, seconds) => commits.push({ sends, seconds }));
      const sends = Array.from({ length: 5 }, (_, i) => message(alice.primary, 'bob', [bob.primary.deviceId], T0 + i));
      await Promise.all([...sends, message(alice.primary, 'bob', [])].map((input) => store.enqueue(input)));
      // Every send is in exactly one commit (SQLite groups them; PostgreSQL commits each alone).
      expect(commits.reduce((sum, commit) => sum + commit.sends, 0)).toBe(6);
      for (const commit of commits) expect(commit.seconds).toBeGreaterThanOrEqual(0);
      store.observeCommits(null);
      await store.enqueue(message(alice.primary, 'bob', [bob.primary.deviceId], T0 + 9));
      expect(commits.reduce((sum, commit) => sum + commit.sends, 0)).toBe(6);
    });

    it('[SSTORE-23] expireInbox deletes expired messages and tells each sender device that still exists', async () => {
      const alice = await register('alice');
      const bob = await register('bob');
      const { device: aliceLaptop } = await linkNew('alice');
      const fromPhone = message(alice.primary, 'bob', [bob.primary.deviceId, aliceLaptop.deviceId]);
      const fromLaptop = message(aliceLaptop, 'bob', [bob.primary.deviceId, alice.primary.deviceId]);
      const fresh = message(alice.primary, 'bob', [bob.primary.deviceId, aliceLaptop.deviceId], T0 + DAY);
      for (const input of [fromPhone, fromLaptop, fresh]) expect((await store.enqueue(input)).status).toBe('accepted');
      await store.removeDevice(aliceLaptop.deviceId, null);

      const now = T0 + INBOX_LIFETIME + 1;
      const notices = await store.expireInbox(now);
      // Only the phone's message to Bob's phone is left to notice: the laptop (a sender) is
      // gone, and so is its inbox.
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatchObject({
        deviceId: alice.primary.deviceId,
        serverTime: now,
        item: { kind: 'expired', clientMessageId: fromPhone.clientMessageId, recipientAccountId: 'bob', recipientDeviceId: bob.primary.deviceId },
      });
      expect(await inboxOf(alice.primary.deviceId)).toEqual(notices);
      const bobRows = await inboxOf(bob.primary.deviceId);
      expect(bobRows.map((r) => r.item.kind === 'message' && r.item.clientMessageId)).toEqual([fresh.clientMessageId]);
      expect(await store.expireInbox(now)).toEqual([]);
    });

    it('[SSTORE-55] each accepted row comes with the newest seq its device had before it, or null', async () => {
      const alice = await register('alice');
      const bob = await register('bob');
      const { device: bobLaptop } = await linkNew('bob');
      const send = async (devices: readonly string[]) => {
        const result = await store.enqueue(message(alice.primary, 'bob', devices));
        if (result.status !== 'accepted') throw new Error(`not accepted: ${result.status}`);
        return new Map(result.seqs.map((row) => [row.deviceId, row]));
      };
      const both = [bob.primary.deviceId, bobLaptop.deviceId];
      const first = await send(both);
      expect(first.get(bob.primary.deviceId)!.previousSeq).toBeNull();
      expect(first.get(bobLaptop.deviceId)!.previousSeq).toBeNull();
      const second = await send(both);
      // Each device's own previous row, not the other's (which may have a higher seq).
      expect(second.get(bob.primary.deviceId)!.previousSeq).toBe(first.get(bob.primary.deviceId)!.seq);
      expect(second.get(bobLaptop.deviceId)!.previousSeq).toBe(first.get(bobLaptop.deviceId)!.seq);
      // Acknowledged rows are gone: the phone's next row follows nothing, the laptop's its second.
      await store.ackInbox(bob.primary.deviceId, [first.get(bob.primary.deviceId)!.seq, second.get(bob.primary.deviceId)!.seq]);
      const third = await send(both);
      expect(third.get(bob.primary.deviceId)!.previousSeq).toBeNull();
      expect(third.get(bobLaptop.deviceId)!.previousSeq).toBe(second.get(bobLaptop.deviceId)!.seq);
      // Sends made at once: each row follows the one stored just before it.
      const results = await Promise.all(Array.from({ length: 6 }, () => store.enqueue(message(alice.primary, 'bob', both))));
      const rows = results.flatMap((result) => (result.status === 'accepted' ? result.seqs : [])).filter((row) => row.deviceId === bobLaptop.deviceId);
      const bySeq = [...rows].sort((a, b) => a.seq - b.seq);
      expect(bySeq.map((row) => row.previousSeq)).toEqual([third.get(bobLaptop.deviceId)!.seq, ...bySeq.slice(0, -1).map((row) => row.seq)]);
    });

    it('[SSTORE-23] expireInbox takes a backlog of more than one batch whole, noticing every message once', async () => {
      const alice = await register('alice');
      const bob = await register('bob');
      // 1,100 rows: two full batches of 500 and a partial one.
      const sends = Array.from({ length: 1100 }, (_, i) => message(alice.primary, 'bob', [bob.primary.deviceId], T0 + i));
      for (const input of sends) expect((await store.enqueue(input)).status).toBe('accepted');
      const notices = await store.expireInbox(T0 + 1100 + INBOX_LIFETIME);
      expect(notices).toHaveLength(1100);
      expect(new Set(notices.map((notice) => notice.item.kind === 'expired' && Buffer.from(notice.item.clientMessageId).toString('hex'))).size).toBe(1100);
      expect(notices.map((notice) => notice.seq)).toEqual([...notices.map((notice) => notice.seq)].sort((a, b) => a - b));
      expect(await inboxOf(bob.primary.deviceId)).toEqual([]);
      expect(await store.readInbox(alice.primary.deviceId, 0, 2000)).toHaveLength(1100);
    });

    it('[SSTORE-23] expireInbox forgets client message ids once their messages expire', async () => {
      const alice = await register('alice');
      const bob = await register('bob');
      const input = message(alice.primary, 'bob', [bob.primary.deviceId]);
      expect((await store.enqueue(input)).status).toBe('accepted');
      await store.expireInbox(T0 + INBOX_LIFETIME - 1);
      expect((await store.enqueue({ ...input, now: T0 + 1 })).status).toBe('duplicate');
      await store.expireInbox(T0 + INBOX_LIFETIME + 1);
      const later = T0 + INBOX_LIFETIME + 2;
      expect((await store.enqueue({ ...input, now: later, expiresAt: later + INBOX_LIFETIME })).status).toBe('accepted');
    });

    it('[SSTORE-24] a send records the two accounts as contacts of each other', async () => {
      const alice = await register('alice');
      await register('bob');
      const carol = await register('carol');
      const bobRow = (await store.listDevices('bob'))[0]!;
      await store.enqueue(message(alice.primary, 'bob', [bobRow.deviceId]));
      await store.enqueue(message(alice.primary, 'bob', [bobRow.deviceId]));
      await store.enqueue(message(carol.primary, 'alice', [alice.primary.deviceId]));
      expect((await store.listContactAccounts('alice')).sort()).toEqual(['bob', 'carol']);
      expect(await store.listContactAccounts('bob')).toEqual(['alice']);
      expect(await store.listContactAccounts('carol')).toEqual(['alice']);
      expect(await store.listContactAccounts('nobody')).toEqual([]);
    });

    it('[SSTORE-25] bytes come back as plain Uint8Arrays with the same contents', async () => {
      const alice = await register('alice');
      const bob = await register('bob');
      const account = (await store.getAccount('alice'))!;
      expectPlainBytes(account.identityKey, alice.account.identityKey);
      expectPlainBytes(account.deviceList.body, alice.account.deviceList.body);
      expectPlainBytes(account.deviceList.signature, alice.account.deviceList.signature);
      const device = (await store.getDevice(alice.primary.deviceId))!;
      expectPlainBytes(device.signingKey, alice.primary.signingKey);
      expectPlainBytes(device.agreementKey, alice.primary.agreementKey);
      const [bundle] = await store.takeBundles('alice');
      expectPlainBytes(bundle!.signedPreKey.publicKey, alice.preKeys.signedPreKey!.publicKey);
      expectPlainBytes(bundle!.pqPreKey.signature, alice.preKeys.pqPreKey!.signature);
      expectPlainBytes(bundle!.oneTimePreKey!.publicKey, alice.preKeys.oneTimePreKeys[0]!.publicKey);

      const link = pendingLink(deviceRow('alice', 'companion'));
      await store.createPendingLink(link);
      const stored = (await store.getPendingLink(link.tokenHash, T0))!;
      expectPlainBytes(stored.tokenHash, link.tokenHash);
      expectPlainBytes(stored.preKeys.oneTimePreKeys[0]!.publicKey, link.preKeys.oneTimePreKeys[0]!.publicKey);

      const input = message(alice.primary, 'bob', [bob.primary.deviceId]);
      await store.enqueue(input);
      const [row] = await inboxOf(bob.primary.deviceId);
      if (row?.item.kind !== 'message') throw new Error('expected a message');
      expectPlainBytes(row.item.clientMessageId, input.clientMessageId);
      expectPlainBytes(row.item.content, input.envelopes[0]!.content);
      expect(typeof row.seq).toBe('number');
      expect(typeof account.deviceListVersion).toBe('number');
    });
    it('[SSTORE-26] devices keep temporary, userAgent, network and disconnectedAt; pending links keep temporary', async () => {
      const { primary } = await register('alice');
      expect(await store.getDevice(primary.deviceId)).toEqual(primary);
      const permanent = await linkNew('alice', T0 + MINUTE);
      const temporary = await linkNew('alice', T0 + 2 * MINUTE, 4, true);
      expect([permanent.result, temporary.result]).toEqual(['linked', 'linked']);
      expect(await store.getDevice(temporary.device.deviceId)).toEqual(temporary.device);
      expect(await store.getDevice(temporary.device.deviceId)).toMatchObject({ temporary: true, userAgent: 'Mozilla/5.0 (X11; Linux x86_64)', network: '192.0.2.0/24', disconnectedAt: null });
      expect((await store.getDevice(permanent.device.deviceId))!.temporary).toBe(false);
      expect((await store.listDevices('alice')).map((d) => d.temporary)).toEqual([false, false, true]);
      const [, , bundle] = await store.takeBundles('alice');
      expect(bundle!.device).toEqual(temporary.device);

      const waiting = pendingLink(deviceRow('alice', 'companion', T0, true));
      await store.createPendingLink(waiting);
      expect(await store.getPendingLink(waiting.tokenHash, T0)).toEqual(waiting);
      expect((await store.getPendingLink(waiting.tokenHash, T0))!.temporary).toBe(true);

      // A temporary device given a disconnect time keeps it.
      const gone: DeviceRow = { ...deviceRow('bob', 'primary', T0, true), disconnectedAt: T0 + 5 * MINUTE };
      expect(await store.createAccount({ account: accountRow('bob'), device: gone, preKeys: upload([1]) })).toBe('created');
      expect(await store.getDevice(gone.deviceId)).toEqual(gone);
    });

    it('[SSTORE-26] linkCompanion refuses a device whose temporary flag is not the pending link one, and the token stays usable', async () => {
      await register('alice');
      const device = deviceRow('alice', 'companion', T0, true);
      const link = { ...pendingLink(device), temporary: false };
      await store.createPendingLink(link);
      const input = { tokenHash: link.tokenHash, now: T0, accountId: 'alice', expectedListVersion: 1, newList: list(), newListExpiresAt: FAR, maxCompanions: 4 };
      await expect(store.linkCompanion({ ...input, device })).rejects.toThrow(TypeError);
      expect(await store.getDevice(device.deviceId)).toBeNull();
      expect(await store.getPendingLink(link.tokenHash, T0)).not.toBeNull();
      expect(await store.linkCompanion({ ...input, device: { ...device, temporary: false } })).toBe('linked');
      expect((await store.getDevice(device.deviceId))!.temporary).toBe(false);

      // Only a temporary device may carry a disconnect time.
      const odd: DeviceRow = { ...deviceRow('carol', 'primary'), disconnectedAt: T0 };
      await expect(store.createAccount({ account: accountRow('carol'), device: odd, preKeys: upload([1]) })).rejects.toThrow(TypeError);
      expect(await store.getAccount('carol')).toBeNull();
    });

    it('[SSTORE-27] a new account has no PIN, no failures, the default policies, and its reminder clock starts at its creation', async () => {
      const account = { ...accountRow('alice'), createdAt: T0 + 7 * MINUTE };
      expect(await store.createAccount({ account, device: deviceRow('alice', 'primary'), preKeys: upload([1]) })).toBe('created');
      const expected: AccountSecurityRow = {
        accountId: 'alice',
        pinHash: null,
        pinFailures: 0,
        pinNextTryAt: 0,
        pinLockedUntil: 0,
        pinReminderStage: 0,
        pinReminderSince: T0 + 7 * MINUTE,
        inactiveDays: DEFAULT_INACTIVE_DAYS,
        phoneUnusedDays: DEFAULT_PHONE_UNUSED_DAYS,
        phoneWarningSentAt: 0,
      };
      expect(await store.getSecurity('alice')).toEqual(expected);
      expect(await store.getSecurity('nobody')).toBeNull();
      // A refused account leaves no security row behind.
      expect(await store.createAccount({ account: accountRow('bob'), device: { ...deviceRow('bob', 'primary'), deviceId: (await store.listDevices('alice'))[0]!.deviceId }, preKeys: upload([1]) })).toBe(
        'device-id-taken',
      );
      expect(await store.getSecurity('bob')).toBeNull();
    });

    it('[SSTORE-28] updateSecurity changes exactly the fields patched, per account', async () => {
      await register('alice');
      await register('bob');
      const bobBefore = await store.getSecurity('bob');
      const full: Omit<AccountSecurityRow, 'accountId'> = {
        pinHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo',
        pinFailures: 3,
        pinNextTryAt: T0 + 30_000,
        pinLockedUntil: T0 + 60 * MINUTE,
        pinReminderStage: 2,
        pinReminderSince: T0 + DAY,
        inactiveDays: 7,
        phoneUnusedDays: 0,
        phoneWarningSentAt: T0 + 2 * DAY,
      };
      expect(await store.updateSecurity('alice', full)).toBe(true);
      expect(await store.getSecurity('alice')).toEqual({ accountId: 'alice', ...full });
      expect(await store.updateSecurity('alice', { inactiveDays: 90, pinHash: null })).toBe(true);
      expect(await store.getSecurity('alice')).toEqual({ accountId: 'alice', ...full, inactiveDays: 90, pinHash: null });
      expect(await store.getSecurity('bob')).toEqual(bobBefore);
      // An empty patch changes nothing but still says whether the account exists.
      expect(await store.updateSecurity('alice', {})).toBe(true);
      expect(await store.updateSecurity('nobody', { inactiveDays: 1 })).toBe(false);
      expect(await store.updateSecurity('nobody', {})).toBe(false);
      expect(await store.getSecurity('nobody')).toBeNull();
      await expect(store.updateSecurity('alice', { inactiveDays: 1.5 })).rejects.toThrow(RangeError);
      expect((await store.getSecurity('alice'))!.inactiveDays).toBe(90);
    });

    it('[SSTORE-29] updateSecurity with expectedFailures changes nothing unless pinFailures is still that value', async () => {
      await register('alice');
      expect(await store.updateSecurity('alice', { pinFailures: 1, pinNextTryAt: T0 + 1 }, { pinFailures: 1 })).toBe(false);
      expect(await store.getSecurity('alice')).toMatchObject({ pinFailures: 0, pinNextTryAt: 0 });
      expect(await store.updateSecurity('alice', { pinFailures: 1, pinNextTryAt: T0 + 1 }, { pinFailures: 0 })).toBe(true);
      expect(await store.getSecurity('alice')).toMatchObject({ pinFailures: 1, pinNextTryAt: T0 + 1 });
      expect(await store.updateSecurity('alice', { pinReminderStage: 1 }, { pinFailures: 0 })).toBe(false);
      expect(await store.updateSecurity('alice', {}, { pinFailures: 0 })).toBe(false);
      expect(await store.updateSecurity('alice', {}, { pinFailures: 1 })).toBe(true);
      expect(await store.updateSecurity('nobody', { pinFailures: 1 }, { pinFailures: 0 })).toBe(false);

      // Two tries racing on the same count: exactly one is counted.
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => store.updateSecurity('alice', { pinFailures: 2, pinNextTryAt: T0 + i }, { pinFailures: 1 })));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await store.getSecurity('alice'))!.pinFailures).toBe(2);
    });

    it('[SSTORE-30] the security log reads back newest first, ties in reverse insertion order, at most limit, per account', async () => {
      await register('alice');
      await register('bob');
      const events = [
        securityEvent('alice', T0 + 1, 'device-linked'),
        securityEvent('alice', T0 + 3, 'pin-enabled'),
        securityEvent('alice', T0 + 2, 'device-removed'),
        securityEvent('alice', T0 + 5, 'pin-failed'),
        securityEvent('alice', T0 + 5, 'pin-locked'),
        securityEvent('alice', T0 + 4, 'policies-changed'),
      ];
      for (const event of events) await store.addSecurityEvent(event);
      await store.addSecurityEvent(securityEvent('bob', T0 + 9, 'pin-changed'));
      const [linked, enabled, removed, failed, locked, policies] = events;
      expect(await store.listSecurityEvents('alice', 100)).toEqual([locked, failed, policies, enabled, removed, linked]);
      expect(await store.listSecurityEvents('alice', 2)).toEqual([locked, failed]);
      expect(await store.listSecurityEvents('alice', 0)).toEqual([]);
      expect((await store.listSecurityEvents('bob', 100)).map((e) => e.kind)).toEqual(['pin-changed']);
      // An unknown account keeps no log.
      await store.addSecurityEvent(securityEvent('nobody', T0));
      expect(await store.listSecurityEvents('nobody', 100)).toEqual([]);
    });

    it(`[SSTORE-31] the security log keeps the newest ${SECURITY_LOG_MAX_EVENTS} entries of each account`, async () => {
      await register('alice');
      await register('bob');
      await store.addSecurityEvent(securityEvent('bob', T0 - DAY));
      for (let i = 0; i < SECURITY_LOG_MAX_EVENTS; i++) await store.addSecurityEvent(securityEvent('alice', T0 + i * 1000));
      expect(await store.listSecurityEvents('alice', 1000)).toHaveLength(SECURITY_LOG_MAX_EVENTS);
      // Past the limit, the oldest goes, whatever order the entries come in; several at once
      // (on PostgreSQL, on several connections) still leave exactly the limit.
      const late = [securityEvent('alice', T0 + 1), securityEvent('alice', T0 - 1)];
      const newer = Array.from({ length: 5 }, (_, i) => securityEvent('alice', T0 + (SECURITY_LOG_MAX_EVENTS + i) * 1000));
      await Promise.all([...late, ...newer].map((event) => store.addSecurityEvent(event)));
      const kept = await store.listSecurityEvents('alice', 1000);
      expect(kept).toHaveLength(SECURITY_LOG_MAX_EVENTS);
      const times = kept.map((e) => e.at);
      expect(times[0]).toBe(T0 + (SECURITY_LOG_MAX_EVENTS + 4) * 1000);
      expect(times.at(-1)).toBe(T0 + 5 * 1000);
      expect(times).not.toContain(T0 + 1);
      expect(times).not.toContain(T0 - 1);
      expect(await store.listSecurityEvents('bob', 1000)).toHaveLength(1);
    });

    it('[SSTORE-32] pruneSecurityEvents deletes entries older than the cut-off across accounts; removing a device keeps its entries', async () => {
      await register('alice');
      await register('bob');
      const { device } = await linkNew('alice');
      const linked = { ...securityEvent('alice', T0 + DAY, 'device-linked'), deviceId: device.deviceId };
      for (const event of [securityEvent('alice', T0), linked, securityEvent('alice', T0 + 2 * DAY), securityEvent('bob', T0 + DAY - 1)]) {
        await store.addSecurityEvent(event);
      }
      expect(await store.removeDevice(device.deviceId, null)).toBe('removed');
      expect(await store.listSecurityEvents('alice', 10)).toContainEqual(linked);

      expect(await store.pruneSecurityEvents(T0 + DAY)).toBe(2);
      expect((await store.listSecurityEvents('alice', 10)).map((e) => e.at)).toEqual([T0 + 2 * DAY, T0 + DAY]);
      expect(await store.listSecurityEvents('bob', 10)).toEqual([]);
      expect(await store.pruneSecurityEvents(T0 + DAY)).toBe(0);
    });

    it('[SSTORE-33] disconnect marks are kept for temporary devices only; a start marks the unmarked ones', async () => {
      const { primary } = await register('alice');
      const { device: permanent } = await linkNew('alice', T0 + MINUTE);
      const { device: first } = await linkNew('alice', T0 + 2 * MINUTE, 4, true);
      const { device: second } = await linkNew('alice', T0 + 3 * MINUTE, 4, true);
      const disconnectedAt = async (device: DeviceRow) => (await store.getDevice(device.deviceId))!.disconnectedAt;

      await store.setDisconnectedAt(first.deviceId, T0 + 5 * MINUTE);
      await store.setDisconnectedAt(permanent.deviceId, T0 + 5 * MINUTE);
      await store.setDisconnectedAt(primary.deviceId, T0 + 5 * MINUTE);
      await store.setDisconnectedAt(newDeviceId(), T0);
      expect(await disconnectedAt(first)).toBe(T0 + 5 * MINUTE);
      expect(await disconnectedAt(permanent)).toBeNull();
      expect(await disconnectedAt(primary)).toBeNull();

      await store.markTemporaryDevicesDisconnected(T0 + 9 * MINUTE);
      expect(await disconnectedAt(first)).toBe(T0 + 5 * MINUTE);
      expect(await disconnectedAt(second)).toBe(T0 + 9 * MINUTE);
      expect(await disconnectedAt(permanent)).toBeNull();
      expect(await disconnectedAt(primary)).toBeNull();

      await store.setDisconnectedAt(first.deviceId, null);
      expect(await disconnectedAt(first)).toBeNull();
      await store.markTemporaryDevicesDisconnected(T0 + 11 * MINUTE);
      expect(await disconnectedAt(first)).toBe(T0 + 11 * MINUTE);
      expect(await disconnectedAt(second)).toBe(T0 + 9 * MINUTE);
    });

    it('[SSTORE-34] listGoneTemporaryDevices gives temporary devices whose socket closed strictly before the cut-off', async () => {
      await register('alice');
      await register('bob');
      const { device: permanent } = await linkNew('alice', T0 + MINUTE);
      const { device: early } = await linkNew('alice', T0 + 2 * MINUTE, 4, true);
      const { device: late } = await linkNew('bob', T0 + 3 * MINUTE, 4, true);
      const { device: connected } = await linkNew('bob', T0 + 4 * MINUTE, 4, true);
      await store.setDisconnectedAt(permanent.deviceId, T0);
      await store.setDisconnectedAt(early.deviceId, T0 + 5 * MINUTE);
      await store.setDisconnectedAt(late.deviceId, T0 + 6 * MINUTE);
      const gone = async (before: number) => (await store.listGoneTemporaryDevices(before)).map((d) => d.deviceId);

      expect(await gone(T0 + 5 * MINUTE)).toEqual([]);
      expect(await gone(T0 + 6 * MINUTE)).toEqual([early.deviceId]);
      expect(await gone(T0 + 6 * MINUTE + 1)).toEqual([early.deviceId, late.deviceId]);
      expect(await store.listGoneTemporaryDevices(T0 + DAY)).toEqual([
        { ...early, disconnectedAt: T0 + 5 * MINUTE },
        { ...late, disconnectedAt: T0 + 6 * MINUTE },
      ]);
      await store.setDisconnectedAt(early.deviceId, null);
      expect(await gone(T0 + DAY)).toEqual([late.deviceId]);
      expect(await gone(T0 + DAY)).not.toContain(connected.deviceId);
    });

    it("[SSTORE-35] listInactiveCompanions gives companions idle longer than their own account's inactiveDays", async () => {
      const alice = await register('alice');
      await register('bob');
      expect(await store.updateSecurity('bob', { inactiveDays: 7 })).toBe(true);
      const now = T0 + 40 * DAY;
      // Alice keeps the default of 30 days: the cut-off is T0 + 10 days.
      const aliceCutoff = now - DEFAULT_INACTIVE_DAYS * DAY_MS;
      const aliceAtCutoff = await linkNew('alice', aliceCutoff);
      const aliceIdle = await linkNew('alice', aliceCutoff - MINUTE);
      const aliceTemporary = await linkNew('alice', aliceCutoff - DAY, 4, true);
      const aliceWithinBobsPolicyOnly = await linkNew('alice', T0 + 20 * DAY);
      // Bob chose 7 days: the cut-off is T0 + 33 days.
      const bobIdle = await linkNew('bob', now - 7 * DAY - MINUTE);
      const bobAtCutoff = await linkNew('bob', now - 7 * DAY);
      const bobLongIdle = await linkNew('bob', T0 + 20 * DAY);
      await store.touchDevice(alice.primary.deviceId, T0);

      const inactive = (await store.listInactiveCompanions(now)).map((d) => d.deviceId).sort();
      expect(inactive).toEqual([aliceIdle, aliceTemporary, bobIdle, bobLongIdle].map((l) => l.device.deviceId).sort());
      for (const active of [aliceAtCutoff, aliceWithinBobsPolicyOnly, bobAtCutoff]) expect(inactive).not.toContain(active.device.deviceId);
      expect(inactive).not.toContain(alice.primary.deviceId);
      expect((await store.listInactiveCompanions(now)).find((d) => d.deviceId === aliceTemporary.device.deviceId)).toEqual(aliceTemporary.device);

      // Activity brings a companion back; a longer policy spares Bob's.
      await store.touchDevice(aliceIdle.device.deviceId, now);
      expect(await store.updateSecurity('bob', { inactiveDays: 30 })).toBe(true);
      expect((await store.listInactiveCompanions(now)).map((d) => d.deviceId)).toEqual([aliceTemporary.device.deviceId]);
    });

    /**
     * Accounts for the unused-phone rules, at `now`: each primary last used `idleDays` (and
     * `extra` ms) before, with the given policy and with or without a companion.
     */
    async function unusedPhones(now: number) {
      const setups = {
        idle15: { phoneUnusedDays: 14, idle: 14 * DAY + MINUTE, companion: true },
        atCutoff14: { phoneUnusedDays: 14, idle: 14 * DAY, companion: true },
        idle20of30: { phoneUnusedDays: 30, idle: 20 * DAY, companion: true },
        idle31of30: { phoneUnusedDays: 30, idle: 30 * DAY + MINUTE, companion: true },
        never: { phoneUnusedDays: 0, idle: 35 * DAY, companion: true },
        alone: { phoneUnusedDays: 14, idle: 35 * DAY, companion: false },
        atWarning: { phoneUnusedDays: 14, idle: PHONE_UNUSED_WARNING_DAYS * DAY, companion: true },
        pastWarning: { phoneUnusedDays: 14, idle: PHONE_UNUSED_WARNING_DAYS * DAY + MINUTE, companion: true },
      } as const;
      const primaries: Record<string, string> = {};
      for (const [accountId, setup] of Object.entries(setups)) {
        const { primary } = await register(accountId);
        primaries[accountId] = primary.deviceId;
        expect(await store.updateSecurity(accountId, { phoneUnusedDays: setup.phoneUnusedDays })).toBe(true);
        if (setup.companion) expect((await linkNew(accountId, now - MINUTE)).result).toBe('linked');
        await store.touchDevice(primary.deviceId, now - setup.idle);
      }
      return primaries as Record<keyof typeof setups, string>;
    }

    it("[SSTORE-36] listUnusedPrimaries('expire') gives primaries idle longer than their account's phoneUnusedDays, if not 0 and with a companion", async () => {
      const now = T0 + 60 * DAY;
      const primaries = await unusedPhones(now);
      const unused = await store.listUnusedPrimaries(now, 'expire');
      expect(unused.map((d) => d.deviceId).sort()).toEqual([primaries.idle15, primaries.idle31of30].sort());
      expect(unused.every((d) => d.kind === 'primary')).toBe(true);
      expect(unused.find((d) => d.deviceId === primaries.idle15)).toMatchObject({ accountId: 'idle15', lastActiveAt: now - 14 * DAY - MINUTE });

      // Removing the only companion takes the account off the list.
      const companion = (await store.listDevices('idle15')).find((d) => d.kind === 'companion')!;
      expect(await store.removeDevice(companion.deviceId, null)).toBe('removed');
      expect((await store.listUnusedPrimaries(now, 'expire')).map((d) => d.deviceId)).toEqual([primaries.idle31of30]);
      expect(await store.listUnusedPrimaries(T0, 'expire')).toEqual([]);
    });

    it(`[SSTORE-37] listUnusedPrimaries('warn') gives primaries idle longer than ${PHONE_UNUSED_WARNING_DAYS} days, if phoneUnusedDays is not 0 and with a companion`, async () => {
      const now = T0 + 60 * DAY;
      const primaries = await unusedPhones(now);
      const warned = (await store.listUnusedPrimaries(now, 'warn')).map((d) => d.deviceId).sort();
      expect(warned).toEqual([primaries.idle15, primaries.atCutoff14, primaries.idle20of30, primaries.idle31of30, primaries.pastWarning].sort());
      for (const spared of [primaries.never, primaries.alone, primaries.atWarning]) expect(warned).not.toContain(spared);
      expect(await store.updateSecurity('pastWarning', { phoneUnusedDays: 0 })).toBe(true);
      expect((await store.listUnusedPrimaries(now, 'warn')).map((d) => d.deviceId)).not.toContain(primaries.pastWarning);
    });

    it('[SSTORE-40] a device reads back with its attestation; setAttestation sets it and is false for an unknown device', async () => {
      const { primary } = await register('alice');
      expect((await store.getDevice(primary.deviceId))!.attestation).toEqual(primary.attestation);
      const device = deviceRow('alice', 'companion');
      const link = pendingLink(device);
      await store.createPendingLink(link);
      const linked = await store.linkCompanion({ tokenHash: link.tokenHash, now: T0, accountId: 'alice', expectedListVersion: 1, newList: list(), newListExpiresAt: FAR, maxCompanions: 4, device });
      expect(linked).toBe('linked');
      expect((await store.getDevice(device.deviceId))!.attestation).toBeNull();
      const attestation = random(64);
      expect(await store.setAttestation(device.deviceId, attestation)).toBe(true);
      expectPlainBytes((await store.getDevice(device.deviceId))!.attestation!, attestation);
      expect(await store.setAttestation(newDeviceId(), random(64))).toBe(false);
    });

    it('[SSTORE-41] a send covers only attested devices: a companion that has not attested is neither needed nor allowed', async () => {
      const alice = await register('alice');
      const bob = await register('bob');
      const device = deviceRow('bob', 'companion');
      const link = pendingLink(device);
      await store.createPendingLink(link);
      await store.linkCompanion({ tokenHash: link.tokenHash, now: T0, accountId: 'bob', expectedListVersion: 1, newList: list(), newListExpiresAt: FAR, maxCompanions: 4, device });
      expect((await store.enqueue(message(alice.primary, 'bob', [bob.primary.deviceId, device.deviceId]))).status).toBe('devices-changed');
      expect(await inboxOf(device.deviceId)).toEqual([]);
      expect((await store.enqueue(message(alice.primary, 'bob', [bob.primary.deviceId]))).status).toBe('accepted');
      await store.setAttestation(device.deviceId, random(64));
      expect((await store.enqueue(message(alice.primary, 'bob', [bob.primary.deviceId]))).status).toBe('devices-changed');
      expect((await store.enqueue(message(alice.primary, 'bob', [bob.primary.deviceId, device.deviceId]))).status).toBe('accepted');
    });

    it('[SSTORE-41] past an account list\'s expiry only its primary is current, for the recipient and the sender alike', async () => {
      const alice = await register('alice');
      const bob = await register('bob');
      const { device: bobLaptop } = await linkNew('bob');
      const { device: aliceLaptop } = await linkNew('alice');
      const bobAccount = (await store.getAccount('bob'))!;
      const soon = T0 + DAY;
      expect(await store.replaceDeviceList('bob', { expectedVersion: bobAccount.deviceListVersion, newList: list(), expiresAt: soon })).toBe(true);
      expect((await store.getAccount('bob'))!.deviceListExpiresAt).toBe(soon);
      const everyone = [bob.primary.deviceId, bobLaptop.deviceId, aliceLaptop.deviceId];
      expect((await store.enqueue(message(alice.primary, 'bob', everyone, soon - 1))).status).toBe('accepted');
      // From the expiry on, Bob's laptop is no longer current (Alice's laptop still is).
      expect((await store.enqueue(message(alice.primary, 'bob', everyone, soon))).status).toBe('devices-changed');
      expect((await store.enqueue(message(alice.primary, 'bob', [bob.primary.deviceId, aliceLaptop.deviceId], soon))).status).toBe('accepted');
      // Bob's own sends no longer copy to his laptop either.
      expect((await store.enqueue(message(bob.primary, 'alice', [alice.primary.deviceId, aliceLaptop.deviceId, bobLaptop.deviceId], soon))).status).toBe(
        'devices-changed',
      );
      expect((await store.enqueue(message(bob.primary, 'alice', [alice.primary.deviceId, aliceLaptop.deviceId], soon))).status).toBe('accepted');
    });

    it('[SSTORE-45] a sender device that is not current, or a recipient without a current device, is refused and stores nothing', async () => {
      const alice = await register('alice');
      const bob = await register('bob');
      // A companion that has not attested yet cannot send, not even to its own account.
      const device = deviceRow('alice', 'companion');
      const link = pendingLink(device);
      await store.createPendingLink(link);
      await store.linkCompanion({ tokenHash: link.tokenHash, now: T0, accountId: 'alice', expectedListVersion: 1, newList: list(), newListExpiresAt: FAR, maxCompanions: 4, device });
      const clientMessageId = random(16);
      expect(await store.enqueue(message(device, 'bob', [bob.primary.deviceId, alice.primary.deviceId], T0, clientMessageId))).toEqual({
        status: 'sender-not-current',
      });
      expect(await store.enqueue(message(device, 'alice', [alice.primary.deviceId]))).toEqual({ status: 'sender-not-current' });
      expect(await inboxOf(bob.primary.deviceId)).toEqual([]);
      // Once it has attested, the same client message id is accepted: the refusal did not use it up.
      await store.setAttestation(device.deviceId, random(64));
      expect((await store.enqueue(message(device, 'bob', [bob.primary.deviceId, alice.primary.deviceId], T0, clientMessageId))).status).toBe('accepted');

      // Past Alice's list expiry her companion is not current, so it cannot send.
      const soon = T0 + DAY;
      expect(await store.replaceDeviceList('alice', { expectedVersion: (await store.getAccount('alice'))!.deviceListVersion, newList: list(), expiresAt: soon })).toBe(true);
      expect(await store.enqueue(message(device, 'bob', [bob.primary.deviceId], soon))).toEqual({ status: 'sender-not-current' });

      // An account whose only device has not attested (as after an upgrade from version 1) can receive nothing yet.
      const carol = { ...deviceRow('carol', 'primary'), attestation: null };
      expect(await store.createAccount({ account: accountRow('carol'), device: carol, preKeys: upload([1]) })).toBe('created');
      expect(await store.enqueue(message(bob.primary, 'carol', []))).toEqual({ status: 'recipient-unavailable' });
      expect(await store.enqueue(message(bob.primary, 'carol', [carol.deviceId]))).toEqual({ status: 'recipient-unavailable' });
      expect(await inboxOf(carol.deviceId)).toEqual([]);
      // Bob is told of Carol's devices from now on, so that he hears when hers attests; Carol
      // hears nothing of Bob, whose message never reached her.
      expect(await store.listContactAccounts('carol')).toContain('bob');
      expect(await store.listContactAccounts('bob')).not.toContain('carol');
      await store.setAttestation(carol.deviceId, random(64));
      expect((await store.enqueue(message(bob.primary, 'carol', [carol.deviceId]))).status).toBe('accepted');
    });

    it('[SSTORE-42] the list expiry is stored with every list: at creation, link, removal and replacement', async () => {
      const { account } = await register('alice');
      expect((await store.getAccount('alice'))!.deviceListExpiresAt).toBe(account.deviceListExpiresAt);
      const device = deviceRow('alice', 'companion');
      const link = pendingLink(device);
      await store.createPendingLink(link);
      await store.linkCompanion({ tokenHash: link.tokenHash, now: T0, accountId: 'alice', expectedListVersion: 1, newList: list(), newListExpiresAt: T0 + 7, maxCompanions: 4, device });
      expect((await store.getAccount('alice'))!.deviceListExpiresAt).toBe(T0 + 7);
      expect(await store.removeDevice(device.deviceId, { expectedVersion: 2, newList: list(), expiresAt: T0 + 8 })).toBe('removed');
      expect((await store.getAccount('alice'))!.deviceListExpiresAt).toBe(T0 + 8);
      expect(await store.replaceDeviceList('alice', { expectedVersion: 3, newList: list(), expiresAt: T0 + 9 })).toBe(true);
      expect((await store.getAccount('alice'))!.deviceListExpiresAt).toBe(T0 + 9);
    });

    it('[SSTORE-43] one-time ML-KEM prekeys are handed out once, lowest first, then the last-resort one', async () => {
      const { primary, preKeys } = await register('alice', [1, 2, 3, 4]);
      const pqOneTime = [pqPreKey(12), pqPreKey(11)];
      expect(await store.addPreKeys(primary.deviceId, { signedPreKey: null, pqPreKey: null, oneTimePreKeys: [], pqOneTimePreKeys: pqOneTime }, LIMITS)).toEqual({
        oneTime: 4,
        pqOneTime: 2,
      });
      const taken = [];
      for (let i = 0; i < 3; i++) taken.push((await store.takeBundles('alice'))[0]!);
      expect(taken.map((bundle) => bundle.pqPreKey)).toEqual([pqOneTime[1], pqOneTime[0], preKeys.pqPreKey]);
      expect(taken.map((bundle) => bundle.remaining)).toEqual([
        { oneTime: 3, pqOneTime: 1 },
        { oneTime: 2, pqOneTime: 0 },
        { oneTime: 1, pqOneTime: 0 },
      ]);
      expect(await store.countPreKeys(primary.deviceId)).toEqual({ oneTime: 1, pqOneTime: 0 });
    });

    it('[SSTORE-43] concurrent takeBundles never hand out the same one-time ML-KEM prekey', async () => {
      const { primary } = await register('alice', []);
      const pqOneTime = Array.from({ length: 12 }, (_, i) => pqPreKey(100 + i));
      await store.addPreKeys(primary.deviceId, { signedPreKey: null, pqPreKey: null, oneTimePreKeys: [], pqOneTimePreKeys: pqOneTime }, LIMITS);
      const bundles = await Promise.all(Array.from({ length: 10 }, () => store.takeBundles('alice')));
      const ids = bundles.map((b) => b[0]!.pqPreKey.id);
      expect(new Set(ids).size).toBe(10);
      expect(ids.every((id) => id >= 100)).toBe(true);
      expect((await store.countPreKeys(primary.deviceId)).pqOneTime).toBe(2);
    });

    it('[SSTORE-44] an upload that would pass a per-device limit stores nothing', async () => {
      const { primary } = await register('alice', [1, 2]);
      const tooMany: PreKeyUploadRow = { signedPreKey: signedPreKey(5), pqPreKey: null, oneTimePreKeys: oneTimePreKeys([3, 4, 5]), pqOneTimePreKeys: [] };
      expect(await store.addPreKeys(primary.deviceId, tooMany, { oneTime: 4, pqOneTime: 100 })).toBe('too-many');
      expect(await store.countPreKeys(primary.deviceId)).toEqual({ oneTime: 2, pqOneTime: 0 });
      expect((await store.takeBundles('alice'))[0]!.signedPreKey.id).toBe(1);
      const pq: PreKeyUploadRow = { signedPreKey: null, pqPreKey: null, oneTimePreKeys: [], pqOneTimePreKeys: [pqPreKey(20), pqPreKey(21)] };
      expect(await store.addPreKeys(primary.deviceId, pq, { oneTime: 200, pqOneTime: 1 })).toBe('too-many');
      expect(await store.addPreKeys(primary.deviceId, pq, { oneTime: 200, pqOneTime: 2 })).toEqual({ oneTime: 1, pqOneTime: 2 });
    });

    it('[SSTORE-46] a send past a device\'s inbox quota is refused and stores nothing; others cannot crowd out own traffic, which has its own share', async () => {
      const alice = await register('alice');
      const bob = await register('bob');
      const carol = await register('carol');
      const { device: bobLaptop } = await linkNew('bob');
      const quota = { maxMessages: 5, maxBytes: 10_000, maxMessagesPerSender: 3, maxBytesPerSender: 10_000 };
      const toBob = (sender: DeviceRow, now: number) => ({ ...message(sender, 'bob', [bob.primary.deviceId, bobLaptop.deviceId], now), quota });
      for (let i = 0; i < 3; i++) expect((await store.enqueue(toBob(alice.primary, T0 + i))).status).toBe('accepted');
      // Alice's share is used up; nothing of the refused send is stored, and its id is not used up.
      const refused = toBob(alice.primary, T0 + 3);
      expect(await store.enqueue(refused)).toEqual({ status: 'inbox-full', deviceIds: [bob.primary.deviceId, bobLaptop.deviceId] });
      expect(await inboxOf(bob.primary.deviceId)).toHaveLength(3);
      // Carol may still write until the device's total is reached.
      for (let i = 0; i < 2; i++) expect((await store.enqueue(toBob(carol.primary, T0 + i))).status).toBe('accepted');
      expect((await store.enqueue(toBob(carol.primary, T0 + 9))).status).toBe('inbox-full');
      // Bob's own devices still reach each other, and what they send is not counted against others.
      expect((await store.enqueue({ ...message(bob.primary, 'bob', [bobLaptop.deviceId]), quota })).status).toBe('accepted');
      expect((await store.enqueue({ ...message(bob.primary, 'alice', [alice.primary.deviceId, bobLaptop.deviceId]), quota })).status).toBe('accepted');
      // But Bob has a share of his own laptop's inbox like anyone: notes to self cannot fill it without end.
      expect((await store.enqueue({ ...message(bob.primary, 'bob', [bobLaptop.deviceId]), quota })).status).toBe('accepted');
      expect(await store.enqueue({ ...message(bob.primary, 'bob', [bobLaptop.deviceId]), quota })).toEqual({ status: 'inbox-full', deviceIds: [bobLaptop.deviceId] });
      // Once Bob's phone collects Alice's rows, her send goes through, under the same client message id.
      const rows = await inboxOf(bob.primary.deviceId);
      await store.ackInbox(bob.primary.deviceId, rows.filter((row) => row.item.kind === 'message' && row.item.senderAccountId === 'alice').map((row) => row.seq));
      expect((await store.enqueue({ ...refused, envelopes: [refused.envelopes[0]!], quota: { ...quota, maxMessages: 100 } })).status).toBe('devices-changed');
      const laptopRows = await inboxOf(bobLaptop.deviceId);
      await store.ackInbox(bobLaptop.deviceId, laptopRows.map((row) => row.seq));
      expect((await store.enqueue(refused)).status).toBe('accepted');
      // Bytes count as well as rows.
      const big = { ...message(carol.primary, 'alice', [alice.primary.deviceId]), quota: { ...quota, maxBytesPerSender: 47 } };
      expect((await store.enqueue(big)).status).toBe('inbox-full');
    });

    it(`[SSTORE-47] the log keeps only the newest ${SECURITY_LOG_MAX_SETTING_EVENTS} changes of settings, which never push out anything else`, async () => {
      await register('alice');
      await store.addSecurityEvent(securityEvent('alice', T0, 'device-linked'));
      for (let i = 1; i <= 100; i++) await store.addSecurityEvent(securityEvent('alice', T0 + i, 'pin-failed'));
      // 1,000 setting changes later the link and every failure are still there, among the newest entries.
      for (let i = 0; i < 1000; i++) await store.addSecurityEvent(securityEvent('alice', T0 + 1000 + i, i % 2 === 0 ? 'policies-changed' : 'pin-changed'));
      const kept = await store.listSecurityEvents('alice', 1000);
      expect(kept).toHaveLength(101 + SECURITY_LOG_MAX_SETTING_EVENTS);
      expect(kept.filter((e) => e.kind === 'device-linked')).toHaveLength(1);
      expect(kept.filter((e) => e.kind === 'pin-failed')).toHaveLength(100);
      // The newest setting changes are the ones kept.
      expect(kept[0]!.at).toBe(T0 + 1999);
      expect(kept[SECURITY_LOG_MAX_SETTING_EVENTS - 1]!.at).toBe(T0 + 2000 - SECURITY_LOG_MAX_SETTING_EVENTS);
      // Other entries past the total push out the oldest entry of any kind.
      for (let i = 0; i < SECURITY_LOG_MAX_EVENTS; i++) await store.addSecurityEvent(securityEvent('alice', T0 + 5000 + i, 'device-removed'));
      const after = await store.listSecurityEvents('alice', 1000);
      expect(after).toHaveLength(SECURITY_LOG_MAX_EVENTS);
      expect(after.every((e) => e.kind === 'device-removed')).toBe(true);
    });
  });

  describe(`Store contract (${name}), migrated from the previous schema`, () => {
    it('[SSTORE-38] rows an older release stored read back with the defaults, and the new features work on them', async () => {
      const createdAt = T0 - 90 * DAY;
      const primaryId = newDeviceId();
      const companionId = newDeviceId();
      const tokenHash = random(32);
      const store = await openFromPrevious(async (db) => {
        await sql`insert into accounts (account_id, identity_key, list_body, list_signature, list_version, created_at)
          values ('alice', ${random(32)}, ${random(10)}, ${random(64)}, 2, ${createdAt})`.execute(db);
        for (const [deviceId, kind, lastActiveAt] of [
          [primaryId, 'primary', T0],
          [companionId, 'companion', createdAt],
        ] as const) {
          await sql`insert into devices (device_id, account_id, kind, signing_key, agreement_key, name, linked_at, last_active_at)
            values (${deviceId}, 'alice', ${kind}, ${random(32)}, ${random(32)}, 'Old', ${createdAt}, ${lastActiveAt})`.execute(db);
        }
        await sql`insert into pending_links (token_hash, created_at, expires_at, ip_address, user_agent, device_name, device_id, signing_key, agreement_key, pre_keys)
          values (${tokenHash}, ${T0}, ${T0 + MINUTE}, '192.0.2.7', 'UA', 'Laptop', ${newDeviceId()}, ${random(32)}, ${random(32)}, ${encodePreKeyUpload(upload([1]))})`.execute(db);
      });
      try {
        expect(await store.getDevice(primaryId)).toMatchObject({ kind: 'primary', temporary: false, userAgent: '', network: '', disconnectedAt: null, lastActiveAt: T0 });
        expect(await store.getDevice(companionId)).toMatchObject({ kind: 'companion', temporary: false, userAgent: '', network: '', disconnectedAt: null });
        expect((await store.getPendingLink(tokenHash, T0))!.temporary).toBe(false);
        expect(await store.getSecurity('alice')).toEqual({
          accountId: 'alice',
          pinHash: null,
          pinFailures: 0,
          pinNextTryAt: 0,
          pinLockedUntil: 0,
          pinReminderStage: 0,
          pinReminderSince: createdAt,
          inactiveDays: DEFAULT_INACTIVE_DAYS,
          phoneUnusedDays: DEFAULT_PHONE_UNUSED_DAYS,
          phoneWarningSentAt: 0,
        });
        // The old companion has been idle 90 days, past the default 30; the phone was used at T0.
        expect((await store.listInactiveCompanions(T0)).map((d) => d.deviceId)).toEqual([companionId]);
        expect((await store.listUnusedPrimaries(T0 + 15 * DAY, 'expire')).map((d) => d.deviceId)).toEqual([primaryId]);
        expect(await store.updateSecurity('alice', { pinFailures: 1 }, { pinFailures: 0 })).toBe(true);
        await store.addSecurityEvent(securityEvent('alice', T0));
        expect(await store.listSecurityEvents('alice', 10)).toHaveLength(1);
        await store.markTemporaryDevicesDisconnected(T0);
        expect(await store.listGoneTemporaryDevices(T0 + DAY)).toEqual([]);
      } finally {
        await store.close();
      }
    });

    it('[SSTORE-38] a database of the schema before protocol version 2 opens with each list\'s expiry read from its body and no attestations', async () => {
      const account = await generateAccountIdentity();
      const device = await generateDeviceIdentity();
      const primaryId = newDeviceId();
      const signed = await signDeviceList(account.privateKey, {
        accountId: 'alice',
        version: 3,
        issuedAt: T0,
        expiresAt: T0 + 100 * DAY,
        devices: [{ deviceId: primaryId, kind: 'primary', identity: publicIdentity(device), linkedAt: T0 }],
      });
      const store = await openFromPrevious(async (db) => {
        await sql`insert into accounts (account_id, identity_key, list_body, list_signature, list_version, created_at)
          values ('alice', ${account.publicKey}, ${signed.body}, ${signed.signature}, 3, ${T0})`.execute(db);
        await sql`insert into accounts (account_id, identity_key, list_body, list_signature, list_version, created_at)
          values ('broken', ${random(32)}, ${random(10)}, ${random(64)}, 1, ${T0})`.execute(db);
        await sql`insert into devices (device_id, account_id, kind, signing_key, agreement_key, name, linked_at, last_active_at)
          values (${primaryId}, 'alice', 'primary', ${device.signing.publicKey}, ${device.agreement.publicKey}, 'Old', ${T0}, ${T0})`.execute(db);
      });
      try {
        expect((await store.getAccount('alice'))!.deviceListExpiresAt).toBe(T0 + 100 * DAY);
        // A body that does not decode cannot be a list the server stored: it reads as expired.
        expect((await store.getAccount('broken'))!.deviceListExpiresAt).toBe(0);
        expect((await store.getDevice(primaryId))!.attestation).toBeNull();
        expect(await store.countPreKeys(primaryId)).toEqual({ oneTime: 0, pqOneTime: 0 });
        expect(await store.setAttestation(primaryId, random(64))).toBe(true);
      } finally {
        await store.close();
      }
    });
  });
}
