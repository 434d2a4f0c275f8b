/**
 * The server's storage, behind one interface with one contract suite (store.contract.ts) that
 * every implementation passes: SQLite by default, PostgreSQL when DATABASE_URL is set.
 *
 * Every method is one transaction. Methods that check-and-change (link a companion, enqueue a
 * message) do the check inside the same transaction as the change, so two nodes racing on the
 * same account cannot both succeed. Times are milliseconds since the Unix epoch. Byte fields are
 * `Uint8Array` (never Node `Buffer`) on the way out.
 * @module
 */
import type { SecurityEventKind } from '@pairwise/protocol/security-log';


/** A signed structure as stored: the exact bytes and the account key's signature. */
export interface SignedBodyRow {
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
}

/** An account: its identity key and its current signed device list. */
export interface AccountRow {
  readonly accountId: string;
  readonly identityKey: Uint8Array;
  readonly deviceList: SignedBodyRow;
  readonly deviceListVersion: number;
  /**
   * When the current list expires (its signed `expiresAt`). Past it, only the primary is current
   * for messages to and from the account until the primary signs a fresh list (SPEC DEVLIST-3).
   */
  readonly deviceListExpiresAt: number;
  readonly createdAt: number;
}

/** The role of a device. */
export type DeviceKind = 'primary' | 'companion';

/** A registered device. */
export interface DeviceRow {
  readonly deviceId: string;
  readonly accountId: string;
  readonly kind: DeviceKind;
  readonly signingKey: Uint8Array;
  readonly agreementKey: Uint8Array;
  /** "Chrome on Linux", as the device described itself. */
  readonly name: string;
  readonly linkedAt: number;
  /** Minute resolution. */
  readonly lastActiveAt: number;
  /** A temporary session: removed once its socket has been gone for a minute (SPEC TEMP-1). */
  readonly temporary: boolean;
  /** The User-Agent it was linked with ('' for primaries registered before it was kept). */
  readonly userAgent: string;
  /** The network it was linked from, coarsened (see `coarseNetwork`): "203.0.113.0/24". */
  readonly network: string;
  /**
   * For a temporary device: when its last socket closed, or null while one is open (or for
   * a device that is not temporary).
   */
  readonly disconnectedAt: number | null;
  /**
   * The device's countersignature over its account (SPEC ATTEST-1), checked before it was stored;
   * null until the device sends it (a companion does right after linking). A device without one
   * is not among its account's current devices for messages.
   */
  readonly attestation: Uint8Array | null;
}

/** A signed prekey (X25519 or ML-KEM) as published. */
export interface SignedPreKeyRow {
  readonly id: number;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
}

/** A one-time prekey as published. */
export interface OneTimePreKeyRow {
  readonly id: number;
  readonly publicKey: Uint8Array;
}

/** Prekeys a device uploads. Signed ones replace the previous; one-time ones are added. */
export interface PreKeyUploadRow {
  readonly signedPreKey: SignedPreKeyRow | null;
  /** The last-resort ML-KEM prekey. */
  readonly pqPreKey: SignedPreKeyRow | null;
  readonly oneTimePreKeys: readonly OneTimePreKeyRow[];
  /** One-time ML-KEM prekeys, each signed. */
  readonly pqOneTimePreKeys: readonly SignedPreKeyRow[];
}

/** What `updateSecurity` compares before it writes. */
export interface SecurityExpectation {
  /** pinFailures is still this. */
  readonly pinFailures?: number;
  /** A PIN is set (true) or not (false). */
  readonly pinSet?: boolean;
}

/** How many one-time prekeys of each kind a device has on the server. */
export interface PreKeyCounts {
  readonly oneTime: number;
  readonly pqOneTime: number;
}

/**
 * One device's bundle: one one-time X25519 prekey taken (removed) if any was left, and one
 * one-time ML-KEM prekey taken if any was left, else the last-resort ML-KEM prekey.
 */
export interface BundleRow {
  readonly device: DeviceRow;
  readonly signedPreKey: SignedPreKeyRow;
  readonly pqPreKey: SignedPreKeyRow;
  readonly oneTimePreKey: OneTimePreKeyRow | null;
  /** One-time prekeys of each kind left for this device after these were taken. */
  readonly remaining: PreKeyCounts;
}

/** Most one-time prekeys of each kind a device may hold on the server (SPEC PREKEYS-1). */
export interface PreKeyLimits {
  readonly oneTime: number;
  readonly pqOneTime: number;
}

/** A companion waiting to be linked: made when it asks for a link token. */
export interface PendingLinkRow {
  /** SHA-256 of the token: the database never holds a usable token. */
  readonly tokenHash: Uint8Array;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly ipAddress: string;
  readonly userAgent: string;
  readonly deviceName: string;
  /** "Keep me signed in" was unticked. */
  readonly temporary: boolean;
  readonly deviceId: string;
  readonly signingKey: Uint8Array;
  readonly agreementKey: Uint8Array;
  /** The companion's prekeys, registered with it when the link is approved. */
  readonly preKeys: PreKeyUploadRow;
}

/** What an inbox item carries. */
export type InboxItem =
  | {
      readonly kind: 'message';
      readonly senderAccountId: string;
      readonly senderDeviceId: string;
      readonly clientMessageId: Uint8Array;
      readonly content: Uint8Array;
    }
  | {
      /** Notice to a sender's device that one of its messages expired undelivered. */
      readonly kind: 'expired';
      readonly clientMessageId: Uint8Array;
      readonly recipientAccountId: string;
      readonly recipientDeviceId: string;
    };

/** One inbox row. `seq` increases in insertion order, so per-device order is `seq` order. */
export interface InboxRow {
  readonly seq: number;
  readonly deviceId: string;
  readonly serverTime: number;
  readonly item: InboxItem;
}

/**
 * A send, as the messaging handler hands it over. The envelopes must name exactly the current
 * devices of both accounts other than the sender: registered and attested, and, for an account
 * whose list has expired at `now`, only its primary (SPEC DEVICES-2, DEVLIST-3).
 */
export interface EnqueueInput {
  readonly senderAccountId: string;
  readonly senderDeviceId: string;
  readonly recipientAccountId: string;
  readonly clientMessageId: Uint8Array;
  readonly envelopes: readonly { readonly deviceId: string; readonly content: Uint8Array }[];
  readonly now: number;
  readonly expiresAt: number;
  /** Bounds on each recipient device's undelivered rows from other accounts; none: unbounded. */
  readonly quota?: InboxQuota;
}

/**
 * How much may wait undelivered in one device's inbox (SPEC LIMIT-3), counting message rows from
 * accounts other than the device's own: the account's own traffic (copies for its other devices)
 * is never held back by what others sent.
 */
export interface InboxQuota {
  /** Rows and content bytes from all other accounts together. */
  readonly maxMessages: number;
  readonly maxBytes: number;
  /** Rows and content bytes from the sending account. */
  readonly maxMessagesPerSender: number;
  readonly maxBytesPerSender: number;
}

/**
 * The outcome of an enqueue:
 * - accepted: one inbox row per envelope was committed (durably) in one transaction;
 * - duplicate: this sender device already sent this client message id; nothing was stored;
 * - devices-changed: the envelopes' device ids are not exactly the recipient account's current
 *   devices plus the sender account's current devices other than the sender device; nothing was
 *   stored. Current: attested, and of an account whose list expired only the primary.
 * - sender-not-current: the sender device is not current itself (unattested, or a companion of an
 *   account whose list expired): its messages would be refused by every recipient; nothing stored.
 * - recipient-unavailable: the recipient is another account and none of its devices is current:
 *   nobody could read the message; nothing was stored, but the sender is recorded as a contact of
 *   the recipient's (that direction only), so that it hears when a device of the recipient attests.
 * - inbox-full: storing the message would take a device of the recipient past `quota`
 *   (`deviceIds`: those devices); nothing was stored.
 * Each refusal also forgets the client message id, so a later retry is judged afresh.
 */
export type EnqueueResult =
  | { readonly status: 'accepted'; readonly seqs: readonly StoredSeq[] }
  | { readonly status: 'duplicate' }
  | { readonly status: 'devices-changed' }
  | { readonly status: 'sender-not-current' }
  | { readonly status: 'recipient-unavailable' }
  | { readonly status: 'inbox-full'; readonly deviceIds: readonly string[] };

/**
 * Where an accepted send's row went: its device, its seq, and the largest seq of that device's
 * inbox below it when it was stored (null: none), read under the device's writer lock, so that
 * no row of the device lies between the two. The hub pushes the row at once to a connection that
 * had pushed up to `previousSeq` (SPEC INBOX-7).
 */
export interface StoredSeq {
  readonly deviceId: string;
  readonly seq: number;
  readonly previousSeq: number | null;
}

/** Linking a companion: everything is checked and changed in one transaction. */
export interface LinkCompanionInput {
  readonly tokenHash: Uint8Array;
  readonly now: number;
  readonly accountId: string;
  /** The list version the primary built on; the new list has version + 1. */
  readonly expectedListVersion: number;
  readonly newList: SignedBodyRow;
  /** The new list's signed `expiresAt`. */
  readonly newListExpiresAt: number;
  readonly maxCompanions: number;
  /** The device to register (its keys and id are those of the pending link). */
  readonly device: DeviceRow;
}

/** The outcome of linking. */
export type LinkCompanionResult =
  | 'linked'
  /** No pending link with this token hash, or it expired, or it was used. */
  | 'token-invalid'
  /** The account's list version is no longer `expectedListVersion`. */
  | 'stale-list'
  /** The account already has `maxCompanions` companions. */
  | 'too-many-companions'
  | 'device-id-taken';

/** A device list replacement guarded by the version it replaces. */
export interface ListUpdate {
  readonly expectedVersion: number;
  readonly newList: SignedBodyRow;
  /** The new list's signed `expiresAt`. */
  readonly expiresAt: number;
}

/**
 * An account's two-step PIN and expiry policies (SPEC PIN-*, EXPIRY-*). A new account has no PIN,
 * no failures, inactiveDays 30 and phoneUnusedDays 14.
 */
export interface AccountSecurityRow {
  readonly accountId: string;
  /** The PHC string of the PIN's Argon2id hash, or null when two-step verification is off. */
  readonly pinHash: string | null;
  /** Consecutive wrong PINs. */
  readonly pinFailures: number;
  /** No PIN is checked before this time (0: now). */
  readonly pinNextTryAt: number;
  /** Approvals are locked until then (0: not locked). */
  readonly pinLockedUntil: number;
  /** Right reminder answers since the PIN was set (the reminder schedule's position). */
  readonly pinReminderStage: number;
  /** When the PIN was set or last answered right. */
  readonly pinReminderSince: number;
  readonly inactiveDays: number;
  /** 0 means never. */
  readonly phoneUnusedDays: number;
  /** When the "phone unused" warning was last pushed (0: never), so that it is pushed once per idle spell. */
  readonly phoneWarningSentAt: number;
}

/** The changeable part of an AccountSecurityRow. */
export type SecurityPatch = Partial<Omit<AccountSecurityRow, 'accountId'>>;

/** One entry of an account's security log (SPEC SECLOG-1). */
export interface SecurityEventRow {
  readonly accountId: string;
  readonly at: number;
  readonly kind: SecurityEventKind;
  /** The device concerned ('' when none). */
  readonly deviceId: string;
  readonly deviceName: string;
  /** With device-removed: a RemovalActor ('phone', 'device', 'expiry', 'phone-unused', 'temporary'); '' otherwise. */
  readonly actor: string;
  /** Coarsened network of the request behind the event ('' when none, e.g. expiry). */
  readonly network: string;
}

/** The server's storage. */
export interface Store {
  /** Which implementation this is, for logs and test names. */
  readonly kind: 'sqlite' | 'postgres';

  /** Creates an account with its primary device and the device's prekeys. */
  createAccount(input: {
    readonly account: AccountRow;
    readonly device: DeviceRow;
    readonly preKeys: PreKeyUploadRow;
  }): Promise<'created' | 'username-taken' | 'device-id-taken'>;
  getAccount(accountId: string): Promise<AccountRow | null>;

  getDevice(deviceId: string): Promise<DeviceRow | null>;
  /** The account's devices, primary first, then by linkedAt. */
  listDevices(accountId: string): Promise<DeviceRow[]>;
  /** Consumes the pending link and registers the companion with its prekeys and the new list. */
  linkCompanion(input: LinkCompanionInput): Promise<LinkCompanionResult>;
  /**
   * Deletes a device with its prekeys and inbox. With `update`, also replaces the account's list
   * if its version is still `update.expectedVersion` (otherwise nothing changes: 'stale-list').
   */
  removeDevice(deviceId: string, update: ListUpdate | null): Promise<'removed' | 'unknown-device' | 'stale-list'>;
  /** Replaces the account's signed list if its version is still `update.expectedVersion`. */
  replaceDeviceList(accountId: string, update: ListUpdate): Promise<boolean>;
  /** Records activity; stored at minute resolution (rounded down). */
  touchDevice(deviceId: string, at: number): Promise<void>;
  /** `touchDevice` for many devices in one transaction (the sweeper's minute, SPEC DEVICES-4). */
  touchDevices(deviceIds: readonly string[], at: number): Promise<void>;
  /** Stores a device's attestation (checked by the caller); false for an unknown device. */
  setAttestation(deviceId: string, attestation: Uint8Array): Promise<boolean>;

  /**
   * Stores prekeys and returns how many one-time prekeys of each kind the device now has. An
   * upload that would leave more than `limits` of either kind stores nothing ('too-many').
   */
  addPreKeys(deviceId: string, upload: PreKeyUploadRow, limits: PreKeyLimits): Promise<PreKeyCounts | 'too-many'>;
  countPreKeys(deviceId: string): Promise<PreKeyCounts>;
  /**
   * One bundle per device of the account that has signed prekeys, each taking one one-time
   * prekey; only the devices named in `deviceIds` when it is not null.
   */
  takeBundles(accountId: string, deviceIds?: readonly string[] | null): Promise<BundleRow[]>;

  createPendingLink(link: PendingLinkRow): Promise<void>;
  /** A pending link that is unused and not expired at `now`, or `null`. */
  getPendingLink(tokenHash: Uint8Array, now: number): Promise<PendingLinkRow | null>;
  deletePendingLink(tokenHash: Uint8Array): Promise<void>;
  /** Deletes pending links that expired before `now`; returns how many. */
  deleteExpiredLinks(now: number): Promise<number>;

  /** Idempotent, all-or-nothing enqueue of one message for many devices (see EnqueueResult). */
  enqueue(input: EnqueueInput): Promise<EnqueueResult>;
  /** Up to `limit` rows for the device with seq > `afterSeq`, in seq order. */
  readInbox(deviceId: string, afterSeq: number, limit: number): Promise<InboxRow[]>;
  /** Deletes the device's rows with these seqs; returns how many were deleted. */
  ackInbox(deviceId: string, seqs: readonly number[]): Promise<number>;
  /**
   * `ackInbox` for several devices in one transaction (and one commit): how acknowledgements are
   * written, in batches (ack-writer.ts). Returns how many rows were deleted in all.
   */
  ackInboxMany(acks: readonly { readonly deviceId: string; readonly seqs: readonly number[] }[]): Promise<number>;
  /**
   * Deletes message rows whose expiry is before `now` and, for each whose sender device still
   * exists, adds an 'expired' notice to that sender device's inbox. Returns the notices added.
   * Also forgets client message ids older than the inbox lifetime (idempotency window).
   */
  expireInbox(now: number): Promise<InboxRow[]>;

  /** The account's PIN state and policies; null for an unknown account. */
  getSecurity(accountId: string): Promise<AccountSecurityRow | null>;
  /**
   * Changes the account's PIN state and policies. With `expected`, only if the row still is as
   * expected (a compare-and-set: two PIN tries racing on two nodes cannot both count as the same
   * try, and of two "turn on the PIN" at once only one turns it on); returns whether the change
   * was made.
   */
  updateSecurity(accountId: string, patch: SecurityPatch, expected?: SecurityExpectation): Promise<boolean>;

  /** Appends to the security log, keeping the newest SECURITY_LOG_MAX_EVENTS of the account. */
  addSecurityEvent(event: SecurityEventRow): Promise<void>;
  /** The account's log, newest first, at most `limit`. */
  listSecurityEvents(accountId: string, limit: number): Promise<SecurityEventRow[]>;
  /** Deletes log entries older than `before`; returns how many. */
  pruneSecurityEvents(before: number): Promise<number>;

  /** Sets or clears when a temporary device's last socket closed (no-op for other devices). */
  setDisconnectedAt(deviceId: string, at: number | null): Promise<void>;
  /**
   * Marks every temporary device that has no disconnectedAt as disconnected at `at`: a node that
   * starts holds no sockets, so devices it served before a crash start their minute now.
   */
  markTemporaryDevicesDisconnected(at: number): Promise<void>;
  /** Temporary devices whose last socket closed before `before`. */
  listGoneTemporaryDevices(before: number): Promise<DeviceRow[]>;
  /** Companions whose lastActiveAt is older than their account's inactiveDays allow at `now`. */
  listInactiveCompanions(now: number): Promise<DeviceRow[]>;
  /**
   * Primaries (one per account) not used for `days` days at `now`, where `days` is the account's
   * phoneUnusedDays for `which: 'expire'`, or PHONE_UNUSED_WARNING_DAYS for `which: 'warn'` (only
   * accounts whose phoneUnusedDays is not 0 and that have at least one companion).
   */
  listUnusedPrimaries(now: number, which: 'expire' | 'warn'): Promise<DeviceRow[]>;

  /** Accounts that exchanged messages with this one (either direction), for change notices. */
  listContactAccounts(accountId: string): Promise<string[]>;

  /**
   * Rows waiting in all inboxes (messages and expiry notices not yet acknowledged), for the
   * inbox depth metric. One indexed count, read at scrape time, never on a request's path.
   */
  countInbox(): Promise<number>;
  /** Resolves when the database answers a trivial query (for /readyz); rejects otherwise. */
  check(): Promise<void>;
  /** Tells `observer` of every commit of sends from now on (`null`: no one); for the metrics. */
  observeCommits(observer: CommitObserver | null): void;

  close(): Promise<void>;
}

/**
 * Hears of one commit of sends: how many sends it held (refused ones included: they rolled back
 * to their savepoint inside it) and how long its transaction took, in seconds. On SQLite one per
 * group commit; on PostgreSQL, whose sends commit in parallel, one per send.
 */
export type CommitObserver = (sends: number, seconds: number) => void;
