/**
 * What decides a send, apart from how the rows are read: which devices may receive it and whether
 * it may be stored (SPEC DEVICES-2, DEVLIST-3, RECEIVE-1, FANOUT-1), and which inboxes it would
 * take past the quota (SPEC LIMIT-3). The two message paths (sqlite-send-path.ts and
 * postgres-send-path.ts) both read the same rows and hand them here, so that the two databases
 * cannot come to different decisions.
 * @module
 */
import { DeviceKinds, int } from './rows.js';
import type { EnqueueInput, EnqueueResult, InboxQuota } from './store.js';

/** The sending and receiving accounts, as a send reads them. */
export interface SendAccountRow {
  readonly account_id: string;
  readonly list_expires_at: number | string | bigint;
}

/** The two accounts' devices, as a send reads them. */
export interface SendDeviceRow {
  readonly device_id: string;
  readonly account_id: string;
  readonly kind: string;
  readonly attestation: Uint8Array | null;
}

/** One device's undelivered message rows, summed (a device with none has no row). */
export interface InboxUsageRow {
  readonly device_id: string;
  readonly messages: number | string | bigint;
  readonly bytes: number | string | bigint | null;
  readonly sender_messages: number | string | bigint | null;
  readonly sender_bytes: number | string | bigint | null;
  readonly recipient_messages: number | string | bigint | null;
  readonly recipient_bytes: number | string | bigint | null;
}

/** A send that may not be stored, or the devices that are current. */
export type SendJudgement = { readonly refused: EnqueueResult } | { readonly current: readonly SendDeviceRow[] };

const devicesChanged = { status: 'devices-changed' } as const;

/** The usage of a device with no undelivered message row. */
const NO_USAGE: Omit<InboxUsageRow, 'device_id'> = { messages: 0, bytes: 0, sender_messages: 0, sender_bytes: 0, recipient_messages: 0, recipient_bytes: 0 };

/**
 * Whether the envelopes name exactly the current devices that should receive the message. Current:
 * attested, and of an account whose list has expired only the primary, as the clients see it.
 */
export function judgeSend(input: EnqueueInput, accounts: readonly SendAccountRow[], devices: readonly SendDeviceRow[]): SendJudgement {
  if (!accounts.some((account) => account.account_id === input.recipientAccountId)) return { refused: devicesChanged };
  // A sender device removed while its send was in flight may no longer send.
  const senderKnown = devices.some((d) => d.device_id === input.senderDeviceId && d.account_id === input.senderAccountId);
  if (!senderKnown) return { refused: devicesChanged };
  const expired = new Set(accounts.filter((account) => int(account.list_expires_at) <= input.now).map((account) => account.account_id));
  const current = devices.filter((d) => d.attestation !== null && (!expired.has(d.account_id) || d.kind === DeviceKinds.Primary));
  // Recipients refuse a device that is not current (SPEC RECEIVE-1): storing its message would
  // only fill inboxes with refusals.
  if (!current.some((d) => d.device_id === input.senderDeviceId)) return { refused: { status: 'sender-not-current' } };
  if (input.recipientAccountId !== input.senderAccountId && !current.some((d) => d.account_id === input.recipientAccountId)) {
    return { refused: { status: 'recipient-unavailable' } };
  }
  const expected = new Set(current.map((d) => d.device_id).filter((id) => id !== input.senderDeviceId));
  const given = new Set(input.envelopes.map((envelope) => envelope.deviceId));
  const exact = given.size === input.envelopes.length && given.size === expected.size && [...given].every((id) => expected.has(id));
  return exact ? { current } : { refused: devicesChanged };
}

/**
 * The devices that this message would take past the quota (SPEC LIMIT-3). Each device takes a
 * bounded share from every sending account, its own included (so that nobody, not even the owner of
 * a dormant companion, can fill it without end), and a bounded total from accounts other than its
 * own (so that others cannot crowd out the account's own traffic).
 */
export function fullInboxes(input: EnqueueInput, quota: InboxQuota, current: readonly SendDeviceRow[], usageRows: readonly InboxUsageRow[]): string[] {
  const owner = new Map(current.map((d) => [d.device_id, d.account_id]));
  const { senderAccountId, recipientAccountId } = input;
  const usage = new Map(usageRows.map((row) => [row.device_id, row]));
  const count = (value: number | string | bigint | null): number => (value === null ? 0 : int(value));
  return input.envelopes
    .filter((envelope) => {
      const row = usage.get(envelope.deviceId) ?? { ...NO_USAGE, device_id: envelope.deviceId };
      const size = envelope.content.byteLength;
      if (count(row.sender_messages) + 1 > quota.maxMessagesPerSender || count(row.sender_bytes) + size > quota.maxBytesPerSender) return true;
      // The device's own account's traffic is held back only by its own share, above.
      const ownAccount = owner.get(envelope.deviceId);
      if (ownAccount === senderAccountId) return false;
      const own = ownAccount === recipientAccountId ? { messages: count(row.recipient_messages), bytes: count(row.recipient_bytes) } : { messages: 0, bytes: 0 };
      const fromOthers = { messages: count(row.messages) - own.messages, bytes: count(row.bytes) - own.bytes };
      return fromOthers.messages + 1 > quota.maxMessages || fromOthers.bytes + size > quota.maxBytes;
    })
    .map((envelope) => envelope.deviceId);
}
