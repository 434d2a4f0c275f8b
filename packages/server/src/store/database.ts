/**
 * The tables as Kysely sees them (created by migrations.ts). Column names are snake_case; the
 * Store's rows are built from them in rows.ts.
 * @module
 */
import type { ColumnType, Generated } from 'kysely';

/** Which SQL database a store runs on. */
export const DialectKind = { Sqlite: 'sqlite', Postgres: 'postgres' } as const;
/** One of `DialectKind`. */
export type DialectKind = (typeof DialectKind)[keyof typeof DialectKind];

/**
 * A 64-bit integer column (times in ms, versions, prekey ids, seqs). `pg` returns int8 as a
 * string to avoid losing precision; better-sqlite3 returns a number. rows.ts turns both into a
 * number, refusing values past 2^53.
 */
export type Int8 = ColumnType<number | string | bigint, number, number>;

/** An int8 the database assigns (the inbox seq). */
export type GeneratedInt8 = ColumnType<number | string | bigint, never, never>;

/**
 * A 0/1 flag. Integers rather than booleans: better-sqlite3 cannot bind a boolean, and one
 * representation in both databases keeps the queries the same.
 */
export type Flag = number;

/** Drivers hand back Node Buffers (a Uint8Array subclass); rows.ts copies them into plain Uint8Arrays. */
export type Bytes = Uint8Array;

/** `accounts`: one row per account, holding the current signed device list. */
export interface AccountsTable {
  account_id: string;
  identity_key: Bytes;
  list_body: Bytes;
  list_signature: Bytes;
  list_version: Int8;
  created_at: Int8;
  /** Added by 0003: the current list's signed expiresAt. */
  list_expires_at: Int8;
}

/** `devices`: every registered device. */
export interface DevicesTable {
  device_id: string;
  account_id: string;
  kind: string;
  signing_key: Bytes;
  agreement_key: Bytes;
  name: string;
  linked_at: Int8;
  last_active_at: Int8;
  /** Added by 0002: 1 for a temporary session. */
  temporary: Flag;
  user_agent: string;
  network: string;
  /** Only ever set on temporary devices. */
  disconnected_at: Int8 | null;
  /** Added by 0003: the device's countersignature over its account, once it made one. */
  attestation: Bytes | null;
}

/** `signed_prekeys`: one row per device; either key may still be missing (null columns). */
export interface SignedPreKeysTable {
  device_id: string;
  signed_id: Int8 | null;
  signed_public_key: Bytes | null;
  signed_signature: Bytes | null;
  pq_id: Int8 | null;
  pq_public_key: Bytes | null;
  pq_signature: Bytes | null;
}

/** `one_time_prekeys`: handed out once each, lowest id first. */
export interface OneTimePreKeysTable {
  device_id: string;
  prekey_id: Int8;
  public_key: Bytes;
}

/** `pq_one_time_prekeys` (0003): one-time ML-KEM prekeys, handed out once each, lowest id first. */
export interface PqOneTimePreKeysTable {
  device_id: string;
  prekey_id: Int8;
  public_key: Bytes;
  signature: Bytes;
}

/** `pending_links`: companions waiting for approval, keyed by the SHA-256 of their token. */
export interface PendingLinksTable {
  token_hash: Bytes;
  created_at: Int8;
  expires_at: Int8;
  ip_address: string;
  user_agent: string;
  device_name: string;
  /** Added by 0002. */
  temporary: Flag;
  device_id: string;
  signing_key: Bytes;
  agreement_key: Bytes;
  /** The prekey upload, encoded by pre-key-upload-codec.ts. */
  pre_keys: string;
}

/** `inbox`: per-device queue. Message rows fill the sender columns, notices the recipient ones. */
export interface InboxTable {
  seq: GeneratedInt8;
  device_id: string;
  server_time: Int8;
  expires_at: Int8;
  kind: string;
  sender_account_id: string | null;
  sender_device_id: string | null;
  recipient_account_id: string | null;
  recipient_device_id: string | null;
  client_message_id: Bytes;
  content: Bytes | null;
  /** Bytes of `content` (0 for a notice), for the inbox quotas (SPEC LIMIT-3). */
  content_bytes: Generated<number>;
}

/** `sent_messages`: the idempotency record of each send, kept as long as its inbox rows may live. */
export interface SentMessagesTable {
  sender_device_id: string;
  client_message_id: Bytes;
  created_at: Int8;
  expires_at: Int8;
}

/** `contacts`: accounts that exchanged messages, one row per direction. */
export interface ContactsTable {
  account_id: string;
  peer_account_id: string;
}

/** `account_security`: one row per account (made with it), its PIN state and expiry policies. */
export interface AccountSecurityTable {
  account_id: string;
  pin_hash: string | null;
  pin_failures: number;
  pin_next_try_at: Int8;
  pin_locked_until: Int8;
  pin_reminder_stage: number;
  pin_reminder_since: Int8;
  inactive_days: number;
  phone_unused_days: number;
  phone_warning_sent_at: Int8;
}

/** `security_events`: each account's security log; `seq` orders events of the same time. */
export interface SecurityEventsTable {
  seq: GeneratedInt8;
  account_id: string;
  at: Int8;
  kind: string;
  device_id: string;
  device_name: string;
  actor: string;
  network: string;
}

/** Every table of the store. */
export interface Database {
  accounts: AccountsTable;
  devices: DevicesTable;
  signed_prekeys: SignedPreKeysTable;
  one_time_prekeys: OneTimePreKeysTable;
  pq_one_time_prekeys: PqOneTimePreKeysTable;
  pending_links: PendingLinksTable;
  inbox: InboxTable;
  sent_messages: SentMessagesTable;
  contacts: ContactsTable;
  account_security: AccountSecurityTable;
  security_events: SecurityEventsTable;
}
