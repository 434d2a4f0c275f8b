/**
 * The message history as the SDK keeps it (the `messages` table): texts, sent and received, and
 * the notices a conversation shows between them ("<name>'s safety number changed", "A message
 * from <name> could not be decrypted"). One record type, `StoredMessage`, for every reader.
 *
 * Records are keyed "chatId/sentAt/messageId", so that listing a chat's prefix gives it in time
 * order. With the app lock on, these records are sealed at rest (SPEC LOCK-1); everything here
 * writes without reading, so it works while locked too.
 * @module
 */
import { randomBytes, toHex } from '@pairwise/crypto/bytes';
import { StoreTable, type ClientStore } from './client-store.js';

/** The notices a conversation can show. */
export const NoticeKind = {
  /** The contact's account key changed (SPEC VERIFY-2). */
  SafetyNumberChanged: 'safety-number-changed',
  /** Messages from the contact could not be decrypted; shown once per burst (SPEC RECEIVE-1). */
  Undecryptable: 'undecryptable',
} as const;
/** One of `NoticeKind`. */
export type NoticeKind = (typeof NoticeKind)[keyof typeof NoticeKind];

interface StoredBase {
  /** The other account of the conversation (our own for notes to self). */
  readonly chatId: string;
  /** Hex of the client message id (the same on every device), or a notice's own id. */
  readonly messageId: string;
  readonly senderAccountId: string;
  readonly senderDeviceId: string;
  readonly sentAt: number;
  /** Sent by this account (on this or another of its devices). */
  readonly outgoing: boolean;
}

/** A text message. */
export interface StoredText extends StoredBase {
  /** Absent in records written before notices existed: those are texts. */
  readonly kind?: 'text';
  readonly text: string;
}

/** A notice in the conversation. */
export interface StoredNotice extends StoredBase {
  readonly kind: 'notice';
  readonly notice: NoticeKind;
  /** How many messages a notice of undecryptable messages stands for (1 for other notices). */
  readonly count: number;
}

/** What the history holds, for the app to show. */
export type StoredMessage = StoredText | StoredNotice;

/** A burst of undecryptable messages from one device: one notice, its count going up. */
interface Burst {
  readonly key: string;
  readonly notice: StoredNotice;
  readonly lastAt: number;
}

/** Failures from one device this close together make one notice (SPEC RECEIVE-1). */
export const UNDECRYPTABLE_BURST_MS = 60 * 60 * 1000;

const BURST_PREFIX = 'undecryptable-burst/';

/** The store key of a record: a chat's records list in time order. */
export function historyKey(chatId: string, sentAt: number, messageId: string): string {
  return `${chatId}/${String(sentAt).padStart(15, '0')}/${messageId}`;
}

/** Writes the history. */
export class MessageHistory {
  constructor(private readonly store: ClientStore) {}

  /** Stores a text. */
  async putText(text: Omit<StoredText, 'kind'>): Promise<void> {
    const record: StoredText = { ...text, kind: 'text' };
    await this.store.put(StoreTable.Messages, historyKey(text.chatId, text.sentAt, text.messageId), record);
  }

  /** Adds a notice that the contact's safety number changed. */
  async safetyNumberChanged(chatId: string, at: number): Promise<StoredNotice> {
    const notice = this.notice(chatId, NoticeKind.SafetyNumberChanged, chatId, '', at, 1);
    await this.store.put(StoreTable.Messages, historyKey(chatId, at, notice.messageId), notice);
    return notice;
  }

  /**
   * Records a message from `sender` that could not be read: a new notice, or one more in the
   * notice of the burst it belongs to. Returns the notice as it now stands.
   */
  async undecryptable(chatId: string, senderAccountId: string, senderDeviceId: string, at: number): Promise<StoredNotice> {
    const burstKey = `${BURST_PREFIX}${chatId}/${senderDeviceId}`;
    const burst = await this.store.get<Burst>(StoreTable.Meta, burstKey);
    const ongoing = burst !== undefined && at - burst.lastAt < UNDECRYPTABLE_BURST_MS;
    const notice = ongoing
      ? { ...burst.notice, count: burst.notice.count + 1 }
      : this.notice(chatId, NoticeKind.Undecryptable, senderAccountId, senderDeviceId, at, 1);
    const key = ongoing ? burst.key : historyKey(chatId, at, notice.messageId);
    await this.store.put(StoreTable.Messages, key, notice);
    await this.store.put<Burst>(StoreTable.Meta, burstKey, { key, notice, lastAt: at });
    return notice;
  }

  /** A message from `senderDeviceId` was read: the next failure starts a new notice. */
  async endBurst(chatId: string, senderDeviceId: string): Promise<void> {
    await this.store.delete(StoreTable.Meta, `${BURST_PREFIX}${chatId}/${senderDeviceId}`);
  }

  private notice(chatId: string, notice: NoticeKind, senderAccountId: string, senderDeviceId: string, at: number, count: number): StoredNotice {
    return {
      kind: 'notice',
      notice,
      chatId,
      messageId: `notice-${toHex(randomBytes(8))}`,
      senderAccountId,
      senderDeviceId,
      sentAt: at,
      outgoing: false,
      count,
    };
  }
}
