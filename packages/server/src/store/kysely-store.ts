/**
 * The Store over Kysely, one class for SQLite and PostgreSQL. Every method that reads and then
 * writes runs in one transaction and re-checks inside it; single statements are their own
 * transaction. Longer than most files here because it is one interface's implementation and
 * its locking story only reads well in one place.
 *
 * Concurrency. SQLite has one writer and Kysely runs one transaction at a time on its single
 * connection, so transactions are simply serial there; the message path on SQLite
 * (sqlite-send-path.ts) runs its own statements on that connection, between Kysely's
 * transactions. On PostgreSQL (READ COMMITTED, several nodes; the message path is
 * postgres-send-path.ts, under the same rules) the checks rely on row locks, always taken in the same order (an account before its
 * devices, rows sorted by key) so that two transactions cannot deadlock:
 * - a device list is only replaced by `UPDATE ... WHERE list_version = expected`, which waits for
 *   a concurrent replacement and then matches nothing;
 * - a send locks its two accounts (FOR SHARE) and their devices (FOR KEY SHARE), so it sees a
 *   settled device set: a list replacement waits for it, and so does a device's removal. KEY
 *   SHARE and not UPDATE, so that the sends of A to B and of B to C, which both read B's devices,
 *   do not queue behind each other unless they write into a common inbox (B's other devices),
 *   and so that updates of columns that are not keys (last-active time, a prekey upload's lock)
 *   never wait for a send. The price: an attestation set while a send waits for its locks is not
 *   seen by that send (a non-key update does not make the lock re-read the row), so a device
 *   attested at that moment can miss that one message;
 * - whoever writes to a device's inbox first takes a transaction-scoped advisory lock on the
 *   device (`lockInboxes`), so that a device's seqs are committed in increasing order: a reader
 *   paging with `afterSeq` never passes over a row that commits later with a smaller seq. They
 *   are taken sorted, and a transaction holding them waits afterwards only for locks whose
 *   holders never wait for an advisory lock (a contacts row being inserted, a device row being
 *   removed or having prekeys stored), so they add no deadlock;
 * - a one-time prekey is taken with FOR UPDATE SKIP LOCKED, so concurrent takers get different ones;
 * - PIN state changes are a single `UPDATE ... WHERE pin_failures = expected` (compare-and-set);
 * - a security log entry is added under the account's `account_security` row lock (FOR UPDATE),
 *   so that concurrent adders trim to exactly the limit. No transaction holds that lock while
 *   waiting for an account or device lock, so it adds no deadlock.
 * @module
 */
import { isSettingChange, SETTING_EVENT_KINDS } from '@pairwise/protocol/security-log';
import {
  DAY_MS,
  DEFAULT_INACTIVE_DAYS,
  DEFAULT_PHONE_UNUSED_DAYS,
  PHONE_UNUSED_WARNING_DAYS,
  SECURITY_LOG_MAX_EVENTS,
  SECURITY_LOG_MAX_SETTING_EVENTS,
} from '@pairwise/protocol/limits';
import { sql, type Expression, type ExpressionBuilder, type Kysely, type Transaction, type Updateable } from 'kysely';
import type { AccountSecurityTable, Database, DialectKind } from './database.js';
import { decodePreKeyUpload, encodePreKeyUpload } from './pre-key-upload-codec.js';
import type { MessagePath } from './message-path.js';
import { INBOX_LOCK_SEED } from './postgres-send-path.js';
import {
  DeviceKinds,
  InboxKind,
  bytes,
  int,
  toAccountRow,
  toDeviceRow,
  toFlag,
  toInboxRow,
  toPendingLinkRow,
  toSecurityEventRow,
  toSecurityRow,
  toSignedPreKeys,
} from './rows.js';
import type {
  AccountRow,
  AccountSecurityRow,
  BundleRow,
  CommitObserver,
  DeviceRow,
  EnqueueInput,
  EnqueueResult,
  InboxRow,
  LinkCompanionInput,
  LinkCompanionResult,
  ListUpdate,
  OneTimePreKeyRow,
  PendingLinkRow,
  PreKeyCounts,
  PreKeyLimits,
  PreKeyUploadRow,
  SecurityEventRow,
  SignedPreKeyRow,
  SecurityExpectation,
  SecurityPatch,
  Store,
} from './store.js';

const MINUTE_MS = 60 * 1000;

/** Most expired inbox rows one transaction of `expireInbox` deletes. */
const EXPIRE_BATCH = 500;

/** Rows per multi-row insert or `IN` list: well under SQLite's 32,766 and PostgreSQL's 65,535 bound parameters. */
const CHUNK = 500;

type Executor = Kysely<Database> | Transaction<Database>;

/** Thrown inside a transaction to roll it back and still hand a result to the caller. */
class Abort extends Error {
  constructor(readonly result: unknown) {
    super('transaction rolled back on purpose');
  }
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/**
 * Activity is kept at minute resolution (SPEC DEVICES-4): the device list only shows "active 5
 * minutes ago", and a finer record of when someone uses their devices is not worth holding.
 */
function floorToMinute(at: number): number {
  return Math.floor(at / MINUTE_MS) * MINUTE_MS;
}

/** `ORDER BY` key putting the primary device first. */
const primaryFirst = sql<number>`case when ${sql.ref('devices.kind')} = ${DeviceKinds.Primary} then 0 else 1 end`;

/** The Store on a Kysely database whose schema migrations.ts has brought up to date. */
export class KyselyStore implements Store {
  /** Whether to take row locks; SQLite neither has nor needs them. */
  private readonly locks: boolean;
  /**
   * `db` is owned by the store from here on: `close()` destroys it. `messages` is the send, read
   * and acknowledge path of this database (message-path.ts), which runs its own statements on
   * the same connections.
   */
  constructor(
    private readonly db: Kysely<Database>,
    readonly kind: DialectKind,
    private readonly messages: MessagePath,
  ) {
    this.locks = kind === 'postgres';
  }

  private async transaction<T>(work: (trx: Transaction<Database>, abort: (result: T) => never) => Promise<T>): Promise<T> {
    const abort = (result: T): never => {
      throw new Abort(result);
    };
    try {
      return await this.db.transaction().execute((trx) => work(trx, abort));
    } catch (error) {
      if (error instanceof Abort) return error.result as T;
      throw error;
    }
  }

  async createAccount(input: { readonly account: AccountRow; readonly device: DeviceRow; readonly preKeys: PreKeyUploadRow }) {
    const { account, device, preKeys } = input;
    if (device.accountId !== account.accountId || device.kind !== DeviceKinds.Primary) {
      throw new TypeError('createAccount: device must be the primary device of the account');
    }
    return this.transaction<'created' | 'username-taken' | 'device-id-taken'>(async (trx, abort) => {
      const created = await trx
        .insertInto('accounts')
        .values({
          account_id: account.accountId,
          identity_key: account.identityKey,
          list_body: account.deviceList.body,
          list_signature: account.deviceList.signature,
          list_version: account.deviceListVersion,
          list_expires_at: account.deviceListExpiresAt,
          created_at: account.createdAt,
        })
        .onConflict((oc) => oc.column('account_id').doNothing())
        .returning('account_id')
        .executeTakeFirst();
      if (created === undefined) return 'username-taken';
      await trx
        .insertInto('account_security')
        .values({
          account_id: account.accountId,
          pin_hash: null,
          pin_failures: 0,
          pin_next_try_at: 0,
          pin_locked_until: 0,
          pin_reminder_stage: 0,
          pin_reminder_since: account.createdAt,
          inactive_days: DEFAULT_INACTIVE_DAYS,
          phone_unused_days: DEFAULT_PHONE_UNUSED_DAYS,
          phone_warning_sent_at: 0,
        })
        .execute();
      if (!(await insertDevice(trx, device))) abort('device-id-taken');
      await storePreKeys(trx, device.deviceId, preKeys);
      return 'created';
    });
  }

  async getAccount(accountId: string): Promise<AccountRow | null> {
    const row = await this.db.selectFrom('accounts').selectAll().where('account_id', '=', accountId).executeTakeFirst();
    return row === undefined ? null : toAccountRow(row);
  }

  async getDevice(deviceId: string): Promise<DeviceRow | null> {
    const row = await this.db.selectFrom('devices').selectAll().where('device_id', '=', deviceId).executeTakeFirst();
    return row === undefined ? null : toDeviceRow(row);
  }

  async listDevices(accountId: string): Promise<DeviceRow[]> {
    const rows = await this.db
      .selectFrom('devices')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy(primaryFirst)
      .orderBy('linked_at')
      .orderBy('device_id')
      .execute();
    return rows.map(toDeviceRow);
  }

  async linkCompanion(input: LinkCompanionInput): Promise<LinkCompanionResult> {
    const { device } = input;
    if (device.accountId !== input.accountId || device.kind !== DeviceKinds.Companion) {
      throw new TypeError('linkCompanion: device must be a companion of input.accountId');
    }
    return this.transaction<LinkCompanionResult>(async (trx, abort) => {
      // Deleting the pending link claims it: a second approval of the same token, on any node,
      // finds nothing. Every outcome but 'linked' rolls back, so the token stays usable for a
      // retry with a fresh list until it expires.
      const link = await trx
        .deleteFrom('pending_links')
        .where('token_hash', '=', input.tokenHash)
        .where('expires_at', '>', input.now)
        .returningAll()
        .executeTakeFirst();
      if (link === undefined) return 'token-invalid';
      if (link.device_id !== device.deviceId || !equalBytes(link.signing_key, device.signingKey) || !equalBytes(link.agreement_key, device.agreementKey)) {
        throw new TypeError("linkCompanion: device must carry the pending link's id and keys");
      }
      // The companion chose a temporary session when it asked for the token; a handler that
      // lost the choice on the way must not turn it into a permanent device.
      if (toFlag(device.temporary) !== int(link.temporary)) {
        throw new TypeError("linkCompanion: device.temporary must be the pending link's");
      }
      const update = { expectedVersion: input.expectedListVersion, newList: input.newList, expiresAt: input.newListExpiresAt };
      if (!(await replaceList(trx, input.accountId, update))) {
        abort('stale-list');
      }
      // The list update above holds the account's row lock, so no other link can slip in
      // between this count and the insert.
      const companions = await trx
        .selectFrom('devices')
        .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
        .where('account_id', '=', input.accountId)
        .where('kind', '=', DeviceKinds.Companion)
        .executeTakeFirstOrThrow();
      if (int(companions.n) >= input.maxCompanions) abort('too-many-companions');
      if (!(await insertDevice(trx, device))) abort('device-id-taken');
      await storePreKeys(trx, device.deviceId, decodePreKeyUpload(link.pre_keys));
      return 'linked';
    });
  }

  async removeDevice(deviceId: string, update: ListUpdate | null): Promise<'removed' | 'unknown-device' | 'stale-list'> {
    return this.transaction<'removed' | 'unknown-device' | 'stale-list'>(async (trx, abort) => {
      const device = await trx.selectFrom('devices').select('account_id').where('device_id', '=', deviceId).executeTakeFirst();
      if (device === undefined) return 'unknown-device';
      // The account before the device: the lock order every transaction here follows.
      if (update !== null && !(await replaceList(trx, device.account_id, update))) return 'stale-list';
      // Its prekeys and inbox go with it (ON DELETE CASCADE).
      const deleted = await trx.deleteFrom('devices').where('device_id', '=', deviceId).executeTakeFirst();
      if (Number(deleted.numDeletedRows) === 0) abort('unknown-device');
      return 'removed';
    });
  }

  async replaceDeviceList(accountId: string, update: ListUpdate): Promise<boolean> {
    return replaceList(this.db, accountId, update);
  }

  async touchDevice(deviceId: string, at: number): Promise<void> {
    await touch(this.db, [deviceId], floorToMinute(at));
  }

  async touchDevices(deviceIds: readonly string[], at: number): Promise<void> {
    if (deviceIds.length === 0) return;
    const minute = floorToMinute(at);
    // One commit for every connected device of this node, not one each: at 100,000 devices the
    // sweeper's minute must not stall the node.
    await this.transaction<void>(async (trx) => {
      for (const chunk of chunks([...deviceIds], CHUNK)) await touch(trx, chunk, minute);
    });
  }

  async setAttestation(deviceId: string, attestation: Uint8Array): Promise<boolean> {
    const result = await this.db.updateTable('devices').set({ attestation }).where('device_id', '=', deviceId).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async addPreKeys(deviceId: string, upload: PreKeyUploadRow, limits: PreKeyLimits): Promise<PreKeyCounts | 'too-many'> {
    const none = { oneTime: 0, pqOneTime: 0 };
    return this.transaction<PreKeyCounts | 'too-many'>(async (trx, abort) => {
      // FOR NO KEY UPDATE keeps the device from being removed until this commits, and makes two
      // uploads of the same device take turns, so that neither can slip past the other's count;
      // unlike FOR UPDATE it lets sends, which hold the device FOR KEY SHARE, go on meanwhile.
      const device = await trx
        .selectFrom('devices')
        .select('device_id')
        .where('device_id', '=', deviceId)
        .$if(this.locks, (qb) => qb.forNoKeyUpdate())
        .executeTakeFirst();
      // A device removed meanwhile keeps no prekeys.
      if (device === undefined) return none;
      await storePreKeys(trx, deviceId, upload);
      const counts = await countPreKeys(trx, deviceId);
      if (counts.oneTime > limits.oneTime || counts.pqOneTime > limits.pqOneTime) abort('too-many');
      return counts;
    });
  }

  async countPreKeys(deviceId: string): Promise<PreKeyCounts> {
    return countPreKeys(this.db, deviceId);
  }

  async takeBundles(accountId: string, deviceIds: readonly string[] | null = null): Promise<BundleRow[]> {
    if (deviceIds !== null && deviceIds.length === 0) return [];
    return this.transaction<BundleRow[]>(async (trx) => {
      const rows = await trx
        .selectFrom('devices')
        .innerJoin('signed_prekeys', 'signed_prekeys.device_id', 'devices.device_id')
        .selectAll('devices')
        .select(['signed_id', 'signed_public_key', 'signed_signature', 'pq_id', 'pq_public_key', 'pq_signature'])
        .where('devices.account_id', '=', accountId)
        // Ids of other accounts' devices, or unknown ones, simply match nothing.
        .$if(deviceIds !== null, (qb) => qb.where('devices.device_id', 'in', [...new Set(deviceIds ?? [])]))
        .orderBy(primaryFirst)
        .orderBy('devices.linked_at')
        .orderBy('devices.device_id')
        .execute();
      const bundles: BundleRow[] = [];
      for (const row of rows) {
        const { signedPreKey, pqPreKey } = toSignedPreKeys(row);
        // A bundle needs both signed prekeys; a device still missing one is left out.
        if (signedPreKey === null || pqPreKey === null) continue;
        const oneTimePreKey = await this.takeOneTimePreKey(trx, row.device_id);
        // A one-time ML-KEM prekey when one is left; the last-resort one otherwise (PQXDH section 2.3).
        const pqOneTimePreKey = await this.takePqOneTimePreKey(trx, row.device_id);
        const remaining = await countPreKeys(trx, row.device_id);
        bundles.push({ device: toDeviceRow(row), signedPreKey, pqPreKey: pqOneTimePreKey ?? pqPreKey, oneTimePreKey, remaining });
      }
      return bundles;
    });
  }

  /** Deletes and returns the device's lowest-id one-time prekey, or `null` if none is free. */
  private async takeOneTimePreKey(trx: Transaction<Database>, deviceId: string): Promise<OneTimePreKeyRow | null> {
    // SKIP LOCKED: a prekey another transaction is taking right now is passed over rather than
    // waited for (and then found gone), so concurrent takers each get a different one.
    const taken = await trx
      .deleteFrom('one_time_prekeys')
      .where('device_id', '=', deviceId)
      .where('prekey_id', '=', (eb) =>
        eb
          .selectFrom('one_time_prekeys as lowest')
          .select('lowest.prekey_id')
          .where('lowest.device_id', '=', deviceId)
          .orderBy('lowest.prekey_id')
          .limit(1)
          .$if(this.locks, (qb) => qb.forUpdate().skipLocked()),
      )
      .returning(['prekey_id', 'public_key'])
      .executeTakeFirst();
    return taken === undefined ? null : { id: int(taken.prekey_id), publicKey: bytes(taken.public_key) };
  }

  /** Deletes and returns the device's lowest-id one-time ML-KEM prekey, or `null` (as takeOneTimePreKey). */
  private async takePqOneTimePreKey(trx: Transaction<Database>, deviceId: string): Promise<SignedPreKeyRow | null> {
    const taken = await trx
      .deleteFrom('pq_one_time_prekeys')
      .where('device_id', '=', deviceId)
      .where('prekey_id', '=', (eb) =>
        eb
          .selectFrom('pq_one_time_prekeys as lowest')
          .select('lowest.prekey_id')
          .where('lowest.device_id', '=', deviceId)
          .orderBy('lowest.prekey_id')
          .limit(1)
          .$if(this.locks, (qb) => qb.forUpdate().skipLocked()),
      )
      .returning(['prekey_id', 'public_key', 'signature'])
      .executeTakeFirst();
    return taken === undefined ? null : { id: int(taken.prekey_id), publicKey: bytes(taken.public_key), signature: bytes(taken.signature) };
  }

  async createPendingLink(link: PendingLinkRow): Promise<void> {
    await this.db
      .insertInto('pending_links')
      .values({
        token_hash: link.tokenHash,
        created_at: link.createdAt,
        expires_at: link.expiresAt,
        ip_address: link.ipAddress,
        user_agent: link.userAgent,
        device_name: link.deviceName,
        temporary: toFlag(link.temporary),
        device_id: link.deviceId,
        signing_key: link.signingKey,
        agreement_key: link.agreementKey,
        pre_keys: encodePreKeyUpload(link.preKeys),
      })
      .execute();
  }

  async getPendingLink(tokenHash: Uint8Array, now: number): Promise<PendingLinkRow | null> {
    const row = await this.db
      .selectFrom('pending_links')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return row === undefined ? null : toPendingLinkRow(row);
  }

  async deletePendingLink(tokenHash: Uint8Array): Promise<void> {
    await this.db.deleteFrom('pending_links').where('token_hash', '=', tokenHash).execute();
  }

  async deleteExpiredLinks(now: number): Promise<number> {
    // `<=`: a link is usable only while expires_at > now, so one expiring exactly now is dead.
    const result = await this.db.deleteFrom('pending_links').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    const result = await this.messages.enqueue(input);
    // The sender waits for the recipient to become reachable: it is told of the recipient's
    // devices from now on (one way only: nothing reached the recipient, who hears nothing of it).
    if (result.status === 'recipient-unavailable') await recordWatcher(this.db, input.recipientAccountId, input.senderAccountId);
    return result;
  }

  async readInbox(deviceId: string, afterSeq: number, limit: number): Promise<InboxRow[]> {
    return this.messages.readInbox(deviceId, afterSeq, limit);
  }

  async ackInbox(deviceId: string, seqs: readonly number[]): Promise<number> {
    return this.ackInboxMany([{ deviceId, seqs }]);
  }

  async ackInboxMany(acks: readonly { readonly deviceId: string; readonly seqs: readonly number[] }[]): Promise<number> {
    return this.messages.ackInboxMany(acks);
  }

  async expireInbox(now: number): Promise<InboxRow[]> {
    // In transactions of at most EXPIRE_BATCH rows: after a long outage the backlog could be
    // large, and on PostgreSQL each sender device noticed takes a lock until the commit, from a
    // lock table of bounded size.
    const notices: InboxRow[] = [];
    for (;;) {
      const batch = await this.expireBatch(now);
      notices.push(...batch.notices);
      if (batch.expired < EXPIRE_BATCH) break;
    }
    return notices.sort((a, b) => a.seq - b.seq);
  }

  /** Deletes up to EXPIRE_BATCH expired rows, the oldest first, and adds their senders' notices. */
  private expireBatch(now: number): Promise<{ expired: number; notices: InboxRow[] }> {
    return this.transaction(async (trx) => {
      // The idempotency window closes with the messages it guarded (same expires_at).
      await trx.deleteFrom('sent_messages').where('expires_at', '<', now).execute();
      // Deleting first and noticing from what was deleted: two nodes sweeping at once cannot
      // both see a row, so a sender is told once. Expired notices themselves go silently.
      const expired = await trx
        .deleteFrom('inbox')
        .where('seq', 'in', (eb) => eb.selectFrom('inbox').select('seq').where('expires_at', '<', now).orderBy('seq').limit(EXPIRE_BATCH))
        .where('expires_at', '<', now)
        .returning(['seq', 'device_id', 'kind', 'sender_device_id', 'client_message_id', 'server_time', 'expires_at'])
        .execute();
      const messages = expired
        .filter((row) => row.kind === InboxKind.Message && row.sender_device_id !== null)
        .sort((a, b) => int(a.seq) - int(b.seq));
      if (messages.length === 0) return { expired: expired.length, notices: [] };
      const accountOf = await deviceAccounts(trx, [...new Set(messages.flatMap((row) => [row.sender_device_id!, row.device_id]))]);
      const notices = messages.flatMap((row) => {
        const sender = row.sender_device_id!;
        const recipientAccountId = accountOf.get(row.device_id);
        if (!accountOf.has(sender) || recipientAccountId === undefined) return [];
        // The notice may wait in the sender's inbox as long as the message could.
        const lifetime = int(row.expires_at) - int(row.server_time);
        return [
          {
            device_id: sender,
            server_time: now,
            expires_at: now + lifetime,
            kind: InboxKind.Expired,
            recipient_account_id: recipientAccountId,
            recipient_device_id: row.device_id,
            client_message_id: row.client_message_id,
          },
        ];
      });
      if (this.locks) await lockInboxes(trx, notices.map((notice) => notice.device_id));
      const rows: InboxRow[] = [];
      for (const chunk of chunks(notices, CHUNK)) {
        const inserted = await trx.insertInto('inbox').values(chunk).returningAll().execute();
        rows.push(...inserted.map(toInboxRow));
      }
      return { expired: expired.length, notices: rows };
    });
  }

  async getSecurity(accountId: string): Promise<AccountSecurityRow | null> {
    const row = await this.db.selectFrom('account_security').selectAll().where('account_id', '=', accountId).executeTakeFirst();
    return row === undefined ? null : toSecurityRow(row);
  }

  async updateSecurity(accountId: string, patch: SecurityPatch, expected: SecurityExpectation = {}): Promise<boolean> {
    const { pinFailures: expectedFailures, pinSet } = expected;
    const changes = securityChanges(patch);
    // Nothing to change: only say whether the account (with that failure count) is there.
    if (Object.keys(changes).length === 0) {
      const row = await this.db
        .selectFrom('account_security')
        .select('account_id')
        .where('account_id', '=', accountId)
        .$if(expectedFailures !== undefined, (qb) => qb.where('pin_failures', '=', expectedFailures!))
        .$if(pinSet !== undefined, (qb) => qb.where('pin_hash', pinSet ? 'is not' : 'is', null))
        .executeTakeFirst();
      return row !== undefined;
    }
    // One statement: on PostgreSQL a concurrent update of the row makes this one wait and then
    // re-check `pin_failures` against the committed value, so two racing tries cannot both match.
    const result = await this.db
      .updateTable('account_security')
      .set(changes)
      .where('account_id', '=', accountId)
      .$if(expectedFailures !== undefined, (qb) => qb.where('pin_failures', '=', expectedFailures!))
      .$if(pinSet !== undefined, (qb) => qb.where('pin_hash', pinSet ? 'is not' : 'is', null))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async addSecurityEvent(event: SecurityEventRow): Promise<void> {
    await this.transaction<void>(async (trx) => {
      // The account's security row serialises its log writers, so that two events added at once
      // on two nodes cannot both trim as if the other did not exist. An unknown account keeps no log.
      const account = await trx
        .selectFrom('account_security')
        .select('account_id')
        .where('account_id', '=', event.accountId)
        .$if(this.locks, (qb) => qb.forUpdate())
        .executeTakeFirst();
      if (account === undefined) return;
      await trx
        .insertInto('security_events')
        .values({
          account_id: event.accountId,
          at: event.at,
          kind: event.kind,
          device_id: event.deviceId,
          device_name: event.deviceName,
          actor: event.actor,
          network: event.network,
        })
        .execute();
      // Changes of settings are kept to the newest SECURITY_LOG_MAX_SETTING_EVENTS, so that
      // flipping settings can never push a link, a removal or a failed PIN out of the log, nor
      // out of the page a phone is shown (SPEC SECLOG-3); past SECURITY_LOG_MAX_EVENTS in all,
      // the oldest entries go (SPEC SECLOG-1).
      if (isSettingChange(event.kind)) {
        await trimOldest(trx, event.accountId, SECURITY_LOG_MAX_SETTING_EVENTS, [...SETTING_EVENT_KINDS]);
      }
      await trimOldest(trx, event.accountId, SECURITY_LOG_MAX_EVENTS, null);
    });
  }

  async listSecurityEvents(accountId: string, limit: number): Promise<SecurityEventRow[]> {
    if (limit <= 0) return [];
    const rows = await this.db
      .selectFrom('security_events')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('at', 'desc')
      .orderBy('seq', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toSecurityEventRow);
  }

  async pruneSecurityEvents(before: number): Promise<number> {
    const result = await this.db.deleteFrom('security_events').where('at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async setDisconnectedAt(deviceId: string, at: number | null): Promise<void> {
    await this.db.updateTable('devices').set({ disconnected_at: at }).where('device_id', '=', deviceId).where('temporary', '=', 1).execute();
  }

  async markTemporaryDevicesDisconnected(at: number): Promise<void> {
    await this.db.updateTable('devices').set({ disconnected_at: at }).where('temporary', '=', 1).where('disconnected_at', 'is', null).execute();
  }

  async listGoneTemporaryDevices(before: number): Promise<DeviceRow[]> {
    const rows = await this.db
      .selectFrom('devices')
      .selectAll()
      // `temporary = 1` as the partial index states it, so that SQLite's planner can use it.
      .where('temporary', '=', 1)
      .where('disconnected_at', '<', before)
      .orderBy('disconnected_at')
      .orderBy('device_id')
      .execute();
    return rows.map(toDeviceRow);
  }

  async listInactiveCompanions(now: number): Promise<DeviceRow[]> {
    const rows = await this.db
      .selectFrom('devices')
      .innerJoin('account_security', 'account_security.account_id', 'devices.account_id')
      .selectAll('devices')
      .where('devices.kind', '=', DeviceKinds.Companion)
      // The shortest policy of any account bounds the index range scan; the exact test is per account.
      .where('devices.last_active_at', '<', (eb) => cutoff(now, shortestPolicy(eb, 'inactive_days')))
      .where('devices.last_active_at', '<', cutoff(now, sql.ref('account_security.inactive_days')))
      .orderBy('devices.last_active_at')
      .orderBy('devices.device_id')
      .execute();
    return rows.map(toDeviceRow);
  }

  async listUnusedPrimaries(now: number, which: 'expire' | 'warn'): Promise<DeviceRow[]> {
    const rows = await this.db
      .selectFrom('devices')
      .innerJoin('account_security', 'account_security.account_id', 'devices.account_id')
      .selectAll('devices')
      .where('devices.kind', '=', DeviceKinds.Primary)
      .where('account_security.phone_unused_days', '<>', 0)
      .$call((qb) =>
        which === 'warn'
          ? qb.where('devices.last_active_at', '<', now - PHONE_UNUSED_WARNING_DAYS * DAY_MS)
          : qb
              // As in listInactiveCompanions: the shortest policy bounds the scan.
              .where('devices.last_active_at', '<', (eb) => cutoff(now, shortestPolicy(eb, 'phone_unused_days')))
              .where('devices.last_active_at', '<', cutoff(now, sql.ref('account_security.phone_unused_days'))),
      )
      // Without a companion there is nothing to log out.
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('devices as companion')
            .select('companion.device_id')
            .whereRef('companion.account_id', '=', 'devices.account_id')
            .where('companion.kind', '=', DeviceKinds.Companion),
        ),
      )
      .orderBy('devices.last_active_at')
      .orderBy('devices.device_id')
      .execute();
    return rows.map(toDeviceRow);
  }

  async listContactAccounts(accountId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('contacts')
      .select('peer_account_id')
      .where('account_id', '=', accountId)
      .orderBy('peer_account_id')
      .execute();
    return rows.map((row) => row.peer_account_id);
  }

  async countInbox(): Promise<number> {
    // Linear in the rows waiting (SQLite counts its narrowest index; PostgreSQL scans, in
    // parallel when large), so it runs at scrape time only, never on a request's path.
    const row = await this.db.selectFrom('inbox').select((eb) => eb.fn.countAll<number | string | bigint>().as('rows')).executeTakeFirstOrThrow();
    return Number(row.rows);
  }

  async check(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  observeCommits(observer: CommitObserver | null): void {
    this.messages.observeCommits(observer);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

/**
 * `now - days * DAY_MS` in SQL, for a number of days held by the database. The cast keeps
 * PostgreSQL from multiplying in 32 bits (30 days of milliseconds overflow an int4).
 */
function cutoff(now: number, days: Expression<number | null>): Expression<number> {
  return sql<number>`${now} - cast(${days} as bigint) * ${DAY_MS}`;
}

/**
 * The smallest value of a policy column over all accounts (NULL when there is none), as
 * `order by ... limit 1` rather than `min()`, so that both databases read it off the column's
 * index instead of scanning every account. A phoneUnusedDays of 0 means never, so it does not
 * count there.
 */
function shortestPolicy(eb: ExpressionBuilder<Database, 'devices' | 'account_security'>, column: 'inactive_days' | 'phone_unused_days'): Expression<number | null> {
  return eb
    .selectFrom('account_security as policy')
    .select(`policy.${column}`)
    .$if(column === 'phone_unused_days', (qb) => qb.where(`policy.${column}`, '>', 0))
    .orderBy(`policy.${column}`)
    .limit(1)
    .$asScalar();
}

/** The integer fields of a SecurityPatch, by column. */
const SECURITY_INTEGER_COLUMNS = {
  pinFailures: 'pin_failures',
  pinNextTryAt: 'pin_next_try_at',
  pinLockedUntil: 'pin_locked_until',
  pinReminderStage: 'pin_reminder_stage',
  pinReminderSince: 'pin_reminder_since',
  inactiveDays: 'inactive_days',
  phoneUnusedDays: 'phone_unused_days',
  phoneWarningSentAt: 'phone_warning_sent_at',
} as const satisfies Record<Exclude<keyof SecurityPatch, 'pinHash'>, keyof AccountSecurityTable>;

/** The columns a SecurityPatch changes (fields left out or undefined change nothing). */
function securityChanges(patch: SecurityPatch): Updateable<AccountSecurityTable> {
  const changes: Updateable<AccountSecurityTable> = {};
  if (patch.pinHash !== undefined) changes.pin_hash = patch.pinHash;
  for (const [field, column] of Object.entries(SECURITY_INTEGER_COLUMNS) as [keyof typeof SECURITY_INTEGER_COLUMNS, keyof typeof changes][]) {
    const value = patch[field];
    if (value === undefined) continue;
    // A fraction would be stored as is by SQLite and refused by PostgreSQL: refuse it on both.
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`updateSecurity: ${field} must be a non-negative integer`);
    (changes as Record<string, number>)[column] = value;
  }
  return changes;
}

/** Replaces an account's list if its version is still the expected one (and locks the account). */
async function replaceList(db: Executor, accountId: string, update: ListUpdate): Promise<boolean> {
  const result = await db
    .updateTable('accounts')
    .set({
      list_body: update.newList.body,
      list_signature: update.newList.signature,
      list_version: update.expectedVersion + 1,
      list_expires_at: update.expiresAt,
    })
    .where('account_id', '=', accountId)
    .where('list_version', '=', update.expectedVersion)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Inserts the device unless its id exists; says whether it did. */
async function insertDevice(trx: Transaction<Database>, device: DeviceRow): Promise<boolean> {
  // Only a temporary device has a disconnect time (setDisconnectedAt keeps it so).
  if (!device.temporary && device.disconnectedAt !== null) {
    throw new TypeError('insertDevice: a device that is not temporary has no disconnectedAt');
  }
  const inserted = await trx
    .insertInto('devices')
    .values({
      device_id: device.deviceId,
      account_id: device.accountId,
      kind: device.kind,
      signing_key: device.signingKey,
      agreement_key: device.agreementKey,
      name: device.name,
      linked_at: device.linkedAt,
      last_active_at: floorToMinute(device.lastActiveAt),
      temporary: toFlag(device.temporary),
      user_agent: device.userAgent,
      network: device.network,
      disconnected_at: device.disconnectedAt,
      attestation: device.attestation,
    })
    .onConflict((oc) => oc.column('device_id').doNothing())
    .returning('device_id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/**
 * Stores an upload: each signed prekey given replaces the device's previous one; one-time
 * prekeys are added, a re-uploaded id replacing the stored key (the device's latest upload is
 * what it holds the private keys for).
 */
async function storePreKeys(trx: Transaction<Database>, deviceId: string, upload: PreKeyUploadRow): Promise<void> {
  const signed = upload.signedPreKey && {
    signed_id: upload.signedPreKey.id,
    signed_public_key: upload.signedPreKey.publicKey,
    signed_signature: upload.signedPreKey.signature,
  };
  const pq = upload.pqPreKey && {
    pq_id: upload.pqPreKey.id,
    pq_public_key: upload.pqPreKey.publicKey,
    pq_signature: upload.pqPreKey.signature,
  };
  if (signed !== null || pq !== null) {
    const changes = { ...signed, ...pq };
    await trx
      .insertInto('signed_prekeys')
      .values({ device_id: deviceId, ...changes })
      .onConflict((oc) => oc.column('device_id').doUpdateSet(changes))
      .execute();
  }
  // One row per id (the last one wins): PostgreSQL refuses to upsert the same key twice in one statement.
  const oneTime = [...new Map(upload.oneTimePreKeys.map((key) => [key.id, key])).values()];
  for (const chunk of chunks(oneTime, CHUNK)) {
    await trx
      .insertInto('one_time_prekeys')
      .values(chunk.map((key) => ({ device_id: deviceId, prekey_id: key.id, public_key: key.publicKey })))
      .onConflict((oc) => oc.columns(['device_id', 'prekey_id']).doUpdateSet((eb) => ({ public_key: eb.ref('excluded.public_key') })))
      .execute();
  }
  const pqOneTime = [...new Map(upload.pqOneTimePreKeys.map((key) => [key.id, key])).values()];
  // Fewer rows per statement: each carries 1,184 bytes of key.
  for (const chunk of chunks(pqOneTime, CHUNK / 5)) {
    await trx
      .insertInto('pq_one_time_prekeys')
      .values(chunk.map((key) => ({ device_id: deviceId, prekey_id: key.id, public_key: key.publicKey, signature: key.signature })))
      .onConflict((oc) =>
        oc.columns(['device_id', 'prekey_id']).doUpdateSet((eb) => ({ public_key: eb.ref('excluded.public_key'), signature: eb.ref('excluded.signature') })),
      )
      .execute();
  }
}

async function countPreKeys(db: Executor, deviceId: string): Promise<PreKeyCounts> {
  const count = (table: 'one_time_prekeys' | 'pq_one_time_prekeys') =>
    db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
      .where('device_id', '=', deviceId)
      .executeTakeFirstOrThrow();
  const [oneTime, pqOneTime] = [await count('one_time_prekeys'), await count('pq_one_time_prekeys')];
  return { oneTime: int(oneTime.n), pqOneTime: int(pqOneTime.n) };
}

/** The account of each of these devices that still exists. */
async function deviceAccounts(trx: Transaction<Database>, deviceIds: readonly string[]): Promise<Map<string, string>> {
  const accountOf = new Map<string, string>();
  for (const chunk of chunks(deviceIds, CHUNK)) {
    const rows = await trx.selectFrom('devices').select(['device_id', 'account_id']).where('device_id', 'in', chunk).execute();
    for (const row of rows) accountOf.set(row.device_id, row.account_id);
  }
  return accountOf;
}

/**
 * Moves the devices' activity to `minute`, only forward: a late write from a slow node must not
 * move activity back in time. Within the same minute this writes nothing.
 */
async function touch(db: Kysely<Database> | Transaction<Database>, deviceIds: readonly string[], minute: number): Promise<void> {
  await db.updateTable('devices').set({ last_active_at: minute }).where('device_id', 'in', deviceIds).where('last_active_at', '<', minute).execute();
}

/** Deletes an account's oldest log entries (of `kinds`, or of any kind) beyond the newest `keep`. */
async function trimOldest(trx: Transaction<Database>, accountId: string, keep: number, kinds: string[] | null): Promise<void> {
  const counted = await trx
    .selectFrom('security_events')
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .where('account_id', '=', accountId)
    .$if(kinds !== null, (qb) => qb.where('kind', 'in', kinds!))
    .executeTakeFirstOrThrow();
  const excess = int(counted.n) - keep;
  if (excess <= 0) return;
  const victims = await trx
    .selectFrom('security_events')
    .select('seq')
    .where('account_id', '=', accountId)
    .$if(kinds !== null, (qb) => qb.where('kind', 'in', kinds!))
    .orderBy('at')
    .orderBy('seq')
    .limit(excess)
    .execute();
  if (victims.length === 0) return;
  await trx
    .deleteFrom('security_events')
    .where(
      'seq',
      'in',
      victims.map((victim) => victim.seq),
    )
    .execute();
}

/**
 * PostgreSQL only: takes the inbox-writer locks of these devices for the rest of the transaction
 * (see the top of this file). Advisory locks live in memory, unlike row locks, which PostgreSQL
 * writes into the row. Keyed by a 64-bit hash of the device id, in the order of that key, so that
 * every writer takes them in one order; two devices sharing a hash only share a queue.
 */
async function lockInboxes(trx: Transaction<Database>, deviceIds: readonly string[]): Promise<void> {
  if (deviceIds.length === 0) return;
  const ids = [...new Set(deviceIds)];
  await sql`select pg_advisory_xact_lock(k) from (select distinct hashtextextended(id, ${INBOX_LOCK_SEED}) as k from unnest(${ids}::text[]) as id order by k) as keys`.execute(trx);
}

/** `watcher` is told of `accountId`'s device changes (a contact row in that direction only). */
async function recordWatcher(db: Kysely<Database>, accountId: string, watcher: string): Promise<void> {
  await db
    .insertInto('contacts')
    .values({ account_id: accountId, peer_account_id: watcher })
    .onConflict((oc) => oc.columns(['account_id', 'peer_account_id']).doNothing())
    .execute();
}
