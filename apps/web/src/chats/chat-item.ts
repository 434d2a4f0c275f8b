/**
 * What a conversation shows, as the chat store hands it to the screens: text messages with their
 * status, notices, and the chat list's rows.
 * @module
 */
import type { NoticeKind } from '@pairwise/client/history';

/**
 * Where a message stands. Outgoing: sending, waiting (held until the person verifies the
 * contact's new safety number or chooses "Send anyway"), sent, delivered, read, or failed (the
 * server refused it; "Retry" sends it again). Incoming: unread or read.
 */
export const MessageStatus = {
  Sending: 'sending',
  Waiting: 'waiting',
  Sent: 'sent',
  Delivered: 'delivered',
  Read: 'read',
  Failed: 'failed',
  Unread: 'unread',
} as const;
/** One of `MessageStatus`. */
export type MessageStatus = (typeof MessageStatus)[keyof typeof MessageStatus];

/** Why the server (or the SDK) would not send a message. */
export interface SendRefusal {
  /** A wire error code (UNKNOWN_ACCOUNT...), or 'UNKNOWN'. */
  readonly code: string;
  readonly message: string;
}

/** A text message on screen. */
export interface MessageView {
  readonly kind: 'text';
  /** The SDK's message id, or a local one ("local-…") while the SDK has not said which it is. */
  readonly id: string;
  readonly chatId: string;
  readonly text: string;
  readonly sentAt: number;
  readonly outgoing: boolean;
  readonly status: MessageStatus;
  /** Why a failed message was not sent; null unless `status` is failed. */
  readonly failure: SendRefusal | null;
  /** "Retry" can send it again: the SDK keeps it, under `id`. */
  readonly retryable: boolean;
}

/** A notice between the messages: "bob's safety number changed", "A message from bob could not be decrypted". */
export interface NoticeView {
  readonly kind: 'notice';
  readonly id: string;
  readonly chatId: string;
  readonly notice: NoticeKind;
  /** How many messages a notice of undecryptable messages stands for (it grows during a burst). */
  readonly count: number;
  readonly sentAt: number;
}

/** What a conversation shows, in time order. */
export type ChatItem = MessageView | NoticeView;

/** A row of the chat list. */
export interface ChatSummary {
  readonly chatId: string;
  /** The newest message or notice. */
  readonly lastItem: ChatItem | null;
  /** Incoming texts not read yet; notices never count. */
  readonly unread: number;
  readonly updatedAt: number;
}
