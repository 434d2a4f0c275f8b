/**
 * The Store contract: every behaviour store.ts documents, as vitest tests, run against each
 * implementation (sqlite-store.test.ts, postgres-store.test.ts). Test titles carry SSTORE rule
 * ids; one file because it is one interface's specification.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  AccountRow,
  DeviceKind,
  DeviceRow,
  EnqueueInput,
  InboxRow,
  OneTimePreKeyRow,
  PendingLinkRow,
  PreKeyUploadRow,
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

function upload(oneTimeIds: readonly number[], signedId: number | null = 1): PreKeyUploadRow {
  return {
    signedPreKey: signedId === null ? null : signedPreKey(signedId),
    pqPreKey: signedId === null ? null : pqPreKey(signedId),
    oneTimePreKeys: oneTimePreKeys(oneTimeIds),
  };
}

function deviceRow(accountId: string, kind: DeviceKind, linkedAt = T0): DeviceRow {
  return {
    deviceId: newDeviceId(),
    accountId,
    kind,
    signingKey: random(32),
    agreementKey: random(32),
    name: kind === 'primary' ? 'Phone' : 'Chrome on Linux',
    linkedAt,
    lastActiveAt: linkedAt,
    temporary: false,
    userAgent: kind === 'primary' ? '' : 'Mozilla/5.0 (X11; Linux x86_64)',
    network: '192.0.2.0/24',
    disconnectedAt: null,
  };
}

function accountRow(accountId: string, version = 1): AccountRow {
  return { accountId, identityKey: random(32), deviceList: list(), deviceListVersion: version, createdAt: T0 };
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

/** Registers the contract's tests for one Store implementation; `open` gives a fresh, empty store. */
export function describeStoreContract(name: string, open: () => Promise<Store>): void {
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
    async function linkNew(accountId: string, linkedAt = T0 + MINUTE, maxCompanions = 4) {
      const device = deviceRow(accountId, 'companion', linkedAt);
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
        maxCompanions,
        device,
      });
      return { device, link, newList, result };
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
      expect(await store.countOneTimePreKeys(primary.deviceId)).toBe(1);
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
      expect(await store.countOneTimePreKeys(primary.deviceId)).toBe(3);
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
      expect(await store.countOneTimePreKeys(device.deviceId)).toBe(2);
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
      const input = { accountId: 'alice', expectedListVersion: 1, newList: list(), maxCompanions: 4, device };
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
      const input = { tokenHash: link.tokenHash, now: T0, accountId: 'alice', newList: list(), maxCompanions: 4, device };
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
        return { tokenHash: link.tokenHash, now: T0, accountId: 'alice', expectedListVersion: 1, newList: list(), maxCompanions: 4, device };
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
      expect(await store.removeDevice(companion.deviceId, { expectedVersion: 2, newList })).toBe('removed');
      expect(await store.getDevice(companion.deviceId)).toBeNull();
      expect(await store.countOneTimePreKeys(companion.deviceId)).toBe(0);
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
      expect(await store.removeDevice(device.deviceId, { expectedVersion: 1, newList: list() })).toBe('stale-list');
      expect(await store.getDevice(device.deviceId)).not.toBeNull();
      expect(await store.countOneTimePreKeys(device.deviceId)).toBe(2);
      expect((await store.getAccount('alice'))!.deviceListVersion).toBe(2);
    });

    it('[SSTORE-12] replaceDeviceList replaces only the version it was built on', async () => {
      await register('alice');
      const newList = list();
      expect(await store.replaceDeviceList('alice', { expectedVersion: 1, newList })).toBe(true);
      expect(await store.replaceDeviceList('alice', { expectedVersion: 1, newList: list() })).toBe(false);
      const account = (await store.getAccount('alice'))!;
      expect(account.deviceListVersion).toBe(2);
      expect(account.deviceList).toEqual(newList);
      expect(await store.replaceDeviceList('nobody', { expectedVersion: 1, newList })).toBe(false);
    });

    it('[SSTORE-13] touchDevice records activity rounded down to the minute', async () => {
      const { primary } = await register('alice');
      await store.touchDevice(primary.deviceId, T0 + 3 * MINUTE + 59_999);
      expect((await store.getDevice(primary.deviceId))!.lastActiveAt).toBe(T0 + 3 * MINUTE);
      await store.touchDevice(primary.deviceId, T0 + 7 * MINUTE + 1);
      expect((await store.getDevice(primary.deviceId))!.lastActiveAt).toBe(T0 + 7 * MINUTE);
      await store.touchDevice(newDeviceId(), T0);
    });

    it('[SSTORE-14] addPreKeys replaces signed prekeys, adds one-time prekeys and counts them', async () => {
      const { primary } = await register('alice', [1, 2]);
      const next = upload([3, 4, 5], 2);
      expect(await store.addPreKeys(primary.deviceId, next)).toBe(5);
      expect(await store.countOneTimePreKeys(primary.deviceId)).toBe(5);
      const [bundle] = await store.takeBundles('alice');
      expect(bundle!.signedPreKey).toEqual(next.signedPreKey);
      expect(bundle!.pqPreKey).toEqual(next.pqPreKey);

      // Only the ML-KEM prekey: the X25519 one stays.
      const pqOnly: PreKeyUploadRow = { signedPreKey: null, pqPreKey: pqPreKey(3), oneTimePreKeys: [] };
      expect(await store.addPreKeys(primary.deviceId, pqOnly)).toBe(4);
      const [after] = await store.takeBundles('alice');
      expect(after!.signedPreKey).toEqual(next.signedPreKey);
      expect(after!.pqPreKey).toEqual(pqOnly.pqPreKey);
      expect(await store.countOneTimePreKeys(newDeviceId())).toBe(0);
    });

    it('[SSTORE-15] takeBundles gives one bundle per device with signed prekeys, each taking its lowest one-time prekey once', async () => {
      const alice = await register('alice', [9, 4]);
      const { device: companion } = await linkNew('alice');

      const first = await store.takeBundles('alice');
      expect(first.map((b) => b.device.deviceId)).toEqual([alice.primary.deviceId, companion.deviceId]);
      expect(first[0]!.device).toEqual(alice.primary);
      expect(first[0]!.oneTimePreKey).toEqual(alice.preKeys.oneTimePreKeys[1]);
      expect(first[0]!.remainingOneTimePreKeys).toBe(1);
      const second = await store.takeBundles('alice');
      expect(second[0]!.oneTimePreKey!.id).toBe(9);
      expect(second[0]!.remainingOneTimePreKeys).toBe(0);
      const third = await store.takeBundles('alice');
      expect(third[0]!.oneTimePreKey).toBeNull();
      expect(third[0]!.remainingOneTimePreKeys).toBe(0);
      expect(third[0]!.signedPreKey).toEqual(alice.preKeys.signedPreKey);
      expect(await store.takeBundles('nobody')).toEqual([]);
    });

    it('[SSTORE-15] takeBundles with device ids takes only from the named devices of the account', async () => {
      const alice = await register('alice', [1, 2]);
      const bob = await register('bob');
      const { device: companion } = await linkNew('alice');
      const named = await store.takeBundles('alice', [companion.deviceId, bob.primary.deviceId, newDeviceId()]);
      expect(named.map((b) => b.device.deviceId)).toEqual([companion.deviceId]);
      expect(await store.countOneTimePreKeys(alice.primary.deviceId)).toBe(2);
      expect(await store.countOneTimePreKeys(bob.primary.deviceId)).toBe(3);
      expect(await store.takeBundles('alice', [])).toEqual([]);
      expect((await store.takeBundles('alice', null)).map((b) => b.device.deviceId)).toEqual([alice.primary.deviceId, companion.deviceId]);
    });

    it('[SSTORE-15] a device without signed prekeys has no bundle', async () => {
      const account = accountRow('carol');
      const primary = deviceRow('carol', 'primary');
      expect(await store.createAccount({ account, device: primary, preKeys: upload([1], null) })).toBe('created');
      expect(await store.takeBundles('carol')).toEqual([]);
      expect(await store.countOneTimePreKeys(primary.deviceId)).toBe(1);
    });

    it('[SSTORE-16] concurrent takeBundles never hand out the same one-time prekey', async () => {
      const ids = Array.from({ length: 20 }, (_, i) => i + 1);
      const { primary } = await register('alice', ids);
      const bundles = await Promise.all(Array.from({ length: 10 }, () => store.takeBundles('alice')));
      const taken = bundles.map((b) => b[0]!.oneTimePreKey?.id);
      expect(taken.every((id) => id !== undefined)).toBe(true);
      expect(new Set(taken).size).toBe(10);
      expect(await store.countOneTimePreKeys(primary.deviceId)).toBe(10);
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
  });
}
