/**
 * The outbox: every message is written here before its first attempt and stays until the server
 * accepts it (SPEC INBOX-5). A message the server refuses, or that cannot be sent for another
 * reason that waiting will not cure, stays too, marked failed, until the person taps "Retry"
 * (SPEC SEND-1): a refused message never passes for a sent one.
 * @module
 */
import { toHex } from '@pairwise/crypto/bytes';
import { StoreTable, type ClientStore } from './client-store.js';
import { decodeContent, reencodeWithSender } from './content.js';

/** Why a message is not sent, in the server's words where the server refused it. */
export interface SendFailure {
  /** A wire error code (UNKNOWN_ACCOUNT...), or 'UNKNOWN' for a failure of another kind. */
  readonly code: string;
  readonly message: string;
  readonly at: number;
}

/** A message waiting for the server's acceptance. */
export interface OutboxEntry {
  readonly version: 2;
  readonly clientMessageId: Uint8Array;
  readonly recipientAccountId: string;
  /** Encoded Content for the recipient's devices. */
  readonly forRecipient: Uint8Array;
  /** Encoded Content for our own other devices (with the chat named). */
  readonly forSelf: Uint8Array;
  readonly createdAt: number;
  /** Set once it failed for good; it is sent again only on `retry`. */
  readonly failure: SendFailure | null;
}

/** What the app needs to know of a message not accepted yet. */
export interface PendingMessage {
  readonly messageId: string;
  readonly chatId: string;
  /** Null while it is being sent (or waits for the connection, or for the person to verify). */
  readonly failure: SendFailure | null;
}

/** The store key of an entry: the outbox lists in the order messages were written. */
export function outboxKey(entry: Pick<OutboxEntry, 'createdAt' | 'clientMessageId'>): string {
  return `${String(entry.createdAt).padStart(15, '0')}/${toHex(entry.clientMessageId)}`;
}

/** The outbox of one device. */
export class Outbox {
  constructor(
    private readonly store: ClientStore,
    private readonly self: { readonly accountId: string; readonly deviceId: string },
  ) {}

  async put(entry: OutboxEntry): Promise<string> {
    const key = outboxKey(entry);
    await this.store.put(StoreTable.Outbox, key, entry);
    return key;
  }

  async delete(key: string): Promise<void> {
    await this.store.delete(StoreTable.Outbox, key);
  }

  /** Marks an entry failed (it stays, for "Retry"). */
  async fail(key: string, entry: OutboxEntry, failure: SendFailure): Promise<OutboxEntry> {
    const failed: OutboxEntry = { ...entry, failure };
    await this.store.put(StoreTable.Outbox, key, failed);
    return failed;
  }

  /** Every entry in the order written; entries of an older format are brought up to date. */
  async list(): Promise<[string, OutboxEntry][]> {
    const rows = await this.store.list<OutboxEntry | LegacyOutboxEntry>(StoreTable.Outbox);
    const entries: [string, OutboxEntry][] = [];
    for (const [key, value] of rows) {
      const entry = value.version === 2 ? value : this.upgrade(value);
      if (entry === null) {
        await this.store.delete(StoreTable.Outbox, key);
        continue;
      }
      if (entry !== value) await this.store.put(StoreTable.Outbox, key, entry);
      entries.push([key, entry]);
    }
    return entries;
  }

  /** The entry of a message id, or `null`. */
  async find(messageId: string): Promise<[string, OutboxEntry] | null> {
    return (await this.list()).find(([, entry]) => toHex(entry.clientMessageId) === messageId) ?? null;
  }

  /**
   * A version 1 entry (written before contents named their sender, SPEC CONTENT-1): its contents
   * get the sender's ids, so that receivers accept them. `null` for one that does not decode.
   */
  private upgrade(entry: LegacyOutboxEntry): OutboxEntry | null {
    const forRecipient = decodeContent(entry.forRecipient);
    const forSelf = decodeContent(entry.forSelf);
    if (forRecipient === null || forSelf === null) return null;
    return {
      version: 2,
      clientMessageId: entry.clientMessageId,
      recipientAccountId: entry.recipientAccountId,
      forRecipient: reencodeWithSender(forRecipient, this.self),
      forSelf: reencodeWithSender(forSelf, this.self),
      createdAt: entry.createdAt,
      failure: null,
    };
  }
}

/** The outbox entry of SDK releases before protocol version 2. */
interface LegacyOutboxEntry {
  readonly version: 1;
  readonly clientMessageId: Uint8Array;
  readonly recipientAccountId: string;
  readonly forRecipient: Uint8Array;
  readonly forSelf: Uint8Array;
  readonly createdAt: number;
}
