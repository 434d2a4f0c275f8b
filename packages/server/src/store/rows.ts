/**
 * Conversions from database rows to the Store's rows. Drivers differ on the way out: `pg` gives
 * int8 as a string, both give bytes as Node Buffers. The Store promises numbers and plain
 * `Uint8Array`s, so every value leaving the store passes through here.
 * @module
 */
import { isSecurityEventKind } from '@pairwise/protocol/security-log';
import type { Selectable } from 'kysely';
import type {
  AccountSecurityTable,
  AccountsTable,
  DevicesTable,
  Flag,
  InboxTable,
  PendingLinksTable,
  SecurityEventsTable,
  SignedPreKeysTable,
} from './database.js';
import { decodePreKeyUpload } from './pre-key-upload-codec.js';
import type {
  AccountRow,
  AccountSecurityRow,
  DeviceKind,
  DeviceRow,
  InboxRow,
  PendingLinkRow,
  SecurityEventRow,
  SignedPreKeyRow,
} from './store.js';

/** Inbox row kinds, as stored in `inbox.kind`. */
export const InboxKind = { Message: 'message', Expired: 'expired' } as const;

/** Device kinds, as stored in `devices.kind`. */
export const DeviceKinds = { Primary: 'primary', Companion: 'companion' } as const satisfies Record<string, DeviceKind>;


/** Data in the database that no code of ours could have written. */
export class CorruptRowError extends Error {
  override readonly name = 'CorruptRowError';
}

/** A 64-bit integer column as a number; refuses what a number cannot hold exactly. */
export function int(value: number | string | bigint): number {
  const result = Number(value);
  if (!Number.isSafeInteger(result)) throw new CorruptRowError(`integer out of range: ${String(value)}`);
  return result;
}

/**
 * A copy of the bytes as a plain Uint8Array. A copy, not a view: small Buffers share Node's
 * pooled memory, and a view would expose the neighbouring bytes through `.buffer`.
 */
export function bytes(value: Uint8Array): Uint8Array {
  return new Uint8Array(value);
}

function text(value: string | null, column: string): string {
  if (value === null) throw new CorruptRowError(`${column} is missing`);
  return value;
}

/** A boolean as a `Flag` column stores it. */
export function toFlag(value: boolean): Flag {
  return value ? 1 : 0;
}

function flag(value: number | string | bigint, column: string): boolean {
  const n = Number(value);
  if (n !== 0 && n !== 1) throw new CorruptRowError(`${column} is not 0 or 1: ${String(value)}`);
  return n === 1;
}

function securityEventKind(value: string): SecurityEventRow['kind'] {
  if (isSecurityEventKind(value)) return value;
  throw new CorruptRowError(`unknown security event kind: ${value}`);
}

function deviceKind(value: string): DeviceKind {
  if (value === DeviceKinds.Primary || value === DeviceKinds.Companion) return value;
  throw new CorruptRowError(`unknown device kind: ${value}`);
}

/** An `accounts` row. */
export function toAccountRow(row: Selectable<AccountsTable>): AccountRow {
  return {
    accountId: row.account_id,
    identityKey: bytes(row.identity_key),
    deviceList: { body: bytes(row.list_body), signature: bytes(row.list_signature) },
    deviceListVersion: int(row.list_version),
    deviceListExpiresAt: int(row.list_expires_at),
    createdAt: int(row.created_at),
  };
}

/** A `devices` row. */
export function toDeviceRow(row: Selectable<DevicesTable>): DeviceRow {
  return {
    deviceId: row.device_id,
    accountId: row.account_id,
    kind: deviceKind(row.kind),
    signingKey: bytes(row.signing_key),
    agreementKey: bytes(row.agreement_key),
    name: row.name,
    linkedAt: int(row.linked_at),
    lastActiveAt: int(row.last_active_at),
    temporary: flag(row.temporary, 'temporary'),
    userAgent: row.user_agent,
    network: row.network,
    disconnectedAt: row.disconnected_at === null ? null : int(row.disconnected_at),
    attestation: row.attestation === null ? null : bytes(row.attestation),
  };
}

/** A `pending_links` row. */
export function toPendingLinkRow(row: Selectable<PendingLinksTable>): PendingLinkRow {
  return {
    tokenHash: bytes(row.token_hash),
    createdAt: int(row.created_at),
    expiresAt: int(row.expires_at),
    ipAddress: row.ip_address,
    userAgent: row.user_agent,
    deviceName: row.device_name,
    temporary: flag(row.temporary, 'temporary'),
    deviceId: row.device_id,
    signingKey: bytes(row.signing_key),
    agreementKey: bytes(row.agreement_key),
    preKeys: decodePreKeyUpload(row.pre_keys),
  };
}

/** An `account_security` row. */
export function toSecurityRow(row: Selectable<AccountSecurityTable>): AccountSecurityRow {
  return {
    accountId: row.account_id,
    pinHash: row.pin_hash,
    pinFailures: int(row.pin_failures),
    pinNextTryAt: int(row.pin_next_try_at),
    pinLockedUntil: int(row.pin_locked_until),
    pinReminderStage: int(row.pin_reminder_stage),
    pinReminderSince: int(row.pin_reminder_since),
    inactiveDays: int(row.inactive_days),
    phoneUnusedDays: int(row.phone_unused_days),
    phoneWarningSentAt: int(row.phone_warning_sent_at),
  };
}

/** A `security_events` row. */
export function toSecurityEventRow(row: Selectable<SecurityEventsTable>): SecurityEventRow {
  return {
    accountId: row.account_id,
    at: int(row.at),
    kind: securityEventKind(row.kind),
    deviceId: row.device_id,
    deviceName: row.device_name,
    actor: row.actor,
    network: row.network,
  };
}

/** The signed X25519 and ML-KEM prekeys of a `signed_prekeys` row, or `null` where missing. */
export function toSignedPreKeys(row: Omit<Selectable<SignedPreKeysTable>, 'device_id'>): {
  signedPreKey: SignedPreKeyRow | null;
  pqPreKey: SignedPreKeyRow | null;
} {
  const signed =
    row.signed_id === null || row.signed_public_key === null || row.signed_signature === null
      ? null
      : { id: int(row.signed_id), publicKey: bytes(row.signed_public_key), signature: bytes(row.signed_signature) };
  const pq =
    row.pq_id === null || row.pq_public_key === null || row.pq_signature === null
      ? null
      : { id: int(row.pq_id), publicKey: bytes(row.pq_public_key), signature: bytes(row.pq_signature) };
  return { signedPreKey: signed, pqPreKey: pq };
}

/** An `inbox` row. */
export function toInboxRow(row: Selectable<InboxTable>): InboxRow {
  const base = { seq: int(row.seq), deviceId: row.device_id, serverTime: int(row.server_time) };
  switch (row.kind) {
    case InboxKind.Message:
      if (row.content === null) throw new CorruptRowError('inbox message without content');
      return {
        ...base,
        item: {
          kind: 'message',
          senderAccountId: text(row.sender_account_id, 'sender_account_id'),
          senderDeviceId: text(row.sender_device_id, 'sender_device_id'),
          clientMessageId: bytes(row.client_message_id),
          content: bytes(row.content),
        },
      };
    case InboxKind.Expired:
      return {
        ...base,
        item: {
          kind: 'expired',
          clientMessageId: bytes(row.client_message_id),
          recipientAccountId: text(row.recipient_account_id, 'recipient_account_id'),
          recipientDeviceId: text(row.recipient_device_id, 'recipient_device_id'),
        },
      };
    default:
      throw new CorruptRowError(`unknown inbox kind: ${row.kind}`);
  }
}
