/**
 * The chats as the screens show them: every conversation's messages and notices in time order,
 * ticks and unread counts, sends that wait or failed, and where the person stands with each
 * contact's safety number. Kept in memory from the SDK's events and from what the SDK already
 * stored: its history (the `messages` table, read as the SDK's `StoredMessage`) and its unsent
 * messages (`pendingMessages()`; the app never reads the SDK's outbox itself). What the SDK does
 * not keep, the app keeps beside it in the `meta` table under `app/`: ticks received, messages
 * read, and chats started before any message.
 *
 * The types the screens read are in chat-item.ts.
 * @module
 */
import type { ClientEventMap } from '@pairwise/client/client-events';
import { StoreTable, type ClientStore } from '@pairwise/client/client-store';
import type { VerificationState } from '@pairwise/client/contacts';
import { ConnectionClosedError, SendFailedError } from '@pairwise/client/errors';
import type { StoredMessage, StoredNotice } from '@pairwise/client/history';
import type { PendingMessage } from '@pairwise/client/outbox';
import { MessageStatus, type ChatItem, type ChatSummary, type MessageView, type NoticeView, type SendRefusal } from './chat-item.js';

/** The part of PairwiseClient the chats use (a fake one in tests). */
export interface ChatClient {
  readonly accountId: string;
  on<K extends keyof ClientEventMap>(event: K, listener: (value: ClientEventMap[K]) => void): () => void;
  sendText(to: string, text: string): Promise<{ readonly messageId: string }>;
  markRead(chatId: string, messageIds: readonly string[]): Promise<void>;
  pendingMessages(): Promise<readonly PendingMessage[]>;
  retry(messageId: string): Promise<unknown>;
  verificationOf(accountId: string): Promise<VerificationState>;
  sendAnyway(accountId: string): Promise<void>;
}

/** The verification state of a contact nothing was decided about. */
const DEFAULT_VERIFICATION: VerificationState = 'default';

const STATUS_PREFIX = 'app/status/';
const CHAT_PREFIX = 'app/chat/';
const LOCAL_PREFIX = 'local-';

/**
 * Ticks only move forward: a late "delivered" never undoes "read". Stored statuses are sending,
 * sent, delivered, read and unread; waiting and failed are worked out when shown (see `view`).
 */
const RANK: Record<MessageStatus, number> = { sending: 0, waiting: 0, failed: 0, unread: 0, sent: 1, delivered: 2, read: 3 };

function later(current: MessageStatus, next: MessageStatus): MessageStatus {
  return RANK[next] > RANK[current] ? next : current;
}

function byTime(a: ChatItem, b: ChatItem): number {
  return a.sentAt - b.sentAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function noticeView(notice: StoredNotice): NoticeView {
  return { kind: 'notice', id: notice.messageId, chatId: notice.chatId, notice: notice.notice, count: notice.count, sentAt: notice.sentAt };
}

interface Chat {
  readonly items: Map<string, ChatItem>;
  readonly createdAt: number;
}

/**
 * Chats of one device, live.
 *
 * @example
 * ```ts
 * const chats = new ChatStore(client, store);
 * await chats.start();
 * chats.subscribe(() => render(chats.list()));
 * await chats.send('bob', 'Hello');
 * ```
 */
export class ChatStore {
  private readonly chats = new Map<string, Chat>();
  /** Statuses known for message ids, including ones whose message has not arrived yet. */
  private readonly statuses = new Map<string, MessageStatus>();
  /**
   * Refusals of messages not sent since, by id (the SDK's, or a draft's local one): a message is
   * shown failed while it is here and not sent.
   */
  private readonly refusals = new Map<string, SendRefusal>();
  /** Where the person stands with each contact's safety number (contacts not here: default). */
  private readonly verifications = new Map<string, VerificationState>();
  /** Verification states being read while `start` runs; it waits for them. */
  private verificationLoads: Promise<void>[] | null = null;
  private readonly listeners = new Set<() => void>();
  private readonly unsubscribe: (() => void)[] = [];
  private localIds = 0;
  private stopped = false;

  constructor(
    private readonly client: ChatClient,
    private readonly store: ClientStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** Listens to the client, then loads what the store holds (events that arrive meanwhile are kept). */
  async start(): Promise<void> {
    const { client } = this;
    this.verificationLoads = [];
    this.unsubscribe.push(
      client.on('message', (message) => {
        this.insertText({
          kind: 'text',
          id: message.messageId,
          chatId: message.chatId,
          text: message.text,
          sentAt: message.sentAt,
          outgoing: message.outgoing,
          status: message.outgoing ? MessageStatus.Sent : MessageStatus.Unread,
          failure: null,
          retryable: true,
        });
        this.changed();
      }),
      client.on('sent', ({ messageId }) => {
        this.refusals.delete(messageId);
        this.raise([messageId], MessageStatus.Sent, false);
      }),
      client.on('send-failed', ({ messageId, code, message }) => {
        this.refusals.set(messageId, { code, message });
        this.changed();
      }),
      client.on('receipt', (receipt) => {
        if (receipt.fromAccountId === client.accountId) {
          // Read on another of our devices: the messages are read here too.
          if (receipt.type === 'read') this.raise(receipt.messageIds, MessageStatus.Read, true, false);
          return;
        }
        this.raise(receipt.messageIds, receipt.type === 'read' ? MessageStatus.Read : MessageStatus.Delivered, true, true);
      }),
      client.on('identity-changed', ({ notice }) => {
        this.insertNotice(notice);
        this.changed();
      }),
      // One notice per burst: the same id comes again with a higher count.
      client.on('decrypt-failed', ({ notice }) => {
        this.insertNotice(notice);
        this.changed();
      }),
      client.on('verification-changed', ({ accountId, state }) => {
        this.verifications.set(accountId, state);
        this.changed();
      }),
    );
    try {
      const [messages, statuses, chats, pending] = await Promise.all([
        this.store.list<StoredMessage>(StoreTable.Messages),
        this.store.list<MessageStatus>(StoreTable.Meta, STATUS_PREFIX),
        this.store.list<{ createdAt: number }>(StoreTable.Meta, CHAT_PREFIX),
        client.pendingMessages(),
      ]);
      for (const [key, status] of statuses) this.note(key.slice(STATUS_PREFIX.length), status);
      // Messages the server has not accepted: being sent, waiting for a decision, or refused.
      const unsent = new Set<string>();
      for (const { messageId, failure } of pending) {
        unsent.add(messageId);
        if (failure !== null && !this.refusals.has(messageId)) this.refusals.set(messageId, { code: failure.code, message: failure.message });
      }
      for (const [key, { createdAt }] of chats) this.chat(key.slice(CHAT_PREFIX.length), createdAt);
      for (const [, stored] of messages) {
        if (stored.kind === 'notice') {
          this.insertNotice(stored);
          continue;
        }
        this.insertText({
          kind: 'text',
          id: stored.messageId,
          chatId: stored.chatId,
          text: stored.text,
          sentAt: stored.sentAt,
          outgoing: stored.outgoing,
          status: stored.outgoing ? (unsent.has(stored.messageId) ? MessageStatus.Sending : MessageStatus.Sent) : MessageStatus.Unread,
          failure: null,
          retryable: true,
        });
      }
      await Promise.all(this.verificationLoads);
    } finally {
      this.verificationLoads = null;
    }
    this.changed();
  }

  /**
   * Stops listening to the client and forgets every message it held: a locked app, a logged-out
   * device or a tab that another one took the device from keeps nothing of the chats in memory
   * (SPEC LOCK-2, DEVICE-1).
   */
  stop(): void {
    this.stopped = true;
    for (const off of this.unsubscribe.splice(0)) off();
    this.listeners.clear();
    this.chats.clear();
    this.statuses.clear();
    this.refusals.clear();
    this.verifications.clear();
  }

  /** Calls `listener` after every change; returns the function that stops it. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every chat, most recent first. */
  list(): ChatSummary[] {
    return [...this.chats.keys()]
      .map((chatId): ChatSummary => {
        const items = this.timeline(chatId);
        const lastItem = items.at(-1) ?? null;
        return {
          chatId,
          lastItem,
          unread: items.filter((item) => item.kind === 'text' && item.status === MessageStatus.Unread).length,
          updatedAt: lastItem?.sentAt ?? this.chats.get(chatId)?.createdAt ?? 0,
        };
      })
      .sort((a, b) => b.updatedAt - a.updatedAt || a.chatId.localeCompare(b.chatId));
  }

  /** A chat's messages and notices, oldest first. */
  timeline(chatId: string): ChatItem[] {
    const chat = this.chats.get(chatId);
    if (!chat) return [];
    return [...chat.items.values()].map((item) => this.view(item)).sort(byTime);
  }

  /** A chat's text messages, oldest first. */
  messages(chatId: string): MessageView[] {
    return this.timeline(chatId).filter((item): item is MessageView => item.kind === 'text');
  }

  /** Whether a chat exists (it has messages or was started here). */
  has(chatId: string): boolean {
    return this.chats.has(chatId);
  }

  /** Where the person stands with the contact's safety number; "held" while sends to them wait. */
  verificationOf(chatId: string): VerificationState {
    return this.verifications.get(chatId) ?? DEFAULT_VERIFICATION;
  }

  /** Starts an empty chat (kept across reloads). */
  async addChat(chatId: string): Promise<void> {
    if (this.chats.has(chatId)) return;
    const createdAt = this.now();
    this.chat(chatId, createdAt);
    this.changed();
    await this.persist(`${CHAT_PREFIX}${chatId}`, { createdAt });
  }

  /**
   * Sends a text; it shows at once as "sending" (or "waiting" while the chat is held), and as
   * "failed" with the reason if refused.
   */
  async send(chatId: string, text: string): Promise<void> {
    const localId = `${LOCAL_PREFIX}${++this.localIds}`;
    const draft: MessageView = {
      kind: 'text',
      id: localId,
      chatId,
      text,
      sentAt: this.now(),
      outgoing: true,
      status: MessageStatus.Sending,
      failure: null,
      retryable: false,
    };
    this.insertText(draft);
    this.changed();
    try {
      // Resolves once the server accepted it: later still while the chat is held.
      const { messageId } = await this.client.sendText(chatId, text);
      this.replaceDraft(draft, messageId, draft.sentAt, MessageStatus.Sent);
    } catch (error) {
      // Cut short by the client closing (another tab took the device, say): not refused, it
      // stays in the SDK's outbox and goes with the next client of this device.
      if (this.stopped || error instanceof ConnectionClosedError) return;
      if (error instanceof SendFailedError) {
        // The SDK kept it, failed: the draft becomes that message, and "Retry" sends it again.
        this.refusals.set(error.messageId, { code: error.code, message: error.message });
        this.replaceDraft(draft, error.messageId, draft.sentAt, MessageStatus.Sending);
      } else {
        // Refused before the SDK kept it (a text it does not take): nothing to retry.
        this.refusals.set(localId, { code: 'UNKNOWN', message: error instanceof Error ? error.message : 'The message could not be sent.' });
      }
    }
    this.changed();
  }

  /** Sends a failed message again: it goes back to "sending" at once. */
  async retry(messageId: string): Promise<void> {
    const message = this.find(messageId);
    if (message?.kind !== 'text' || !message.retryable || !this.refusals.has(messageId)) return;
    this.refusals.delete(messageId);
    this.changed();
    try {
      await this.client.retry(messageId);
    } catch {
      if (this.stopped) return;
      // Refused again ('send-failed' said so), or the SDK had it in hand already: ask where it stands.
      await this.settle(messageId);
    }
  }

  /** After the contact's safety number changed: sends what waits for them without verifying again. */
  async sendAnyway(chatId: string): Promise<void> {
    await this.client.sendAnyway(chatId);
  }

  /** Marks a chat's incoming messages read, here and (by a receipt) for the sender and our other devices. */
  markRead(chatId: string): void {
    const unread = this.messages(chatId).filter((message) => message.status === MessageStatus.Unread);
    if (unread.length === 0) return;
    const ids = unread.map((message) => message.id);
    this.raise(ids, MessageStatus.Read, false, false);
    this.client.markRead(chatId, ids).catch(() => {
      // Read here all the same; the sender just will not see the second tick turn.
    });
  }

  /** An item as shown: unsent outgoing texts are failed, waiting or sending. */
  private view(item: ChatItem): ChatItem {
    if (item.kind !== 'text' || !item.outgoing || item.status !== MessageStatus.Sending) return item;
    const refusal = this.refusals.get(item.id);
    if (refusal !== undefined) return { ...item, status: MessageStatus.Failed, failure: refusal };
    if (this.verificationOf(item.chatId) === 'held') return { ...item, status: MessageStatus.Waiting };
    return item;
  }

  private chat(chatId: string, createdAt = this.now()): Chat {
    let chat = this.chats.get(chatId);
    if (!chat) {
      chat = { items: new Map(), createdAt };
      this.chats.set(chatId, chat);
      this.loadVerification(chatId);
    }
    return chat;
  }

  /** Reads a new chat's verification state, unless an event says it first. */
  private loadVerification(chatId: string): void {
    if (chatId === this.client.accountId) return;
    const loading = this.client.verificationOf(chatId).then(
      (state) => {
        if (this.stopped || this.verifications.has(chatId)) return;
        this.verifications.set(chatId, state);
        if (state !== DEFAULT_VERIFICATION) this.changed();
      },
      () => {
        // Unknown until its next event: shown as never compared, which sends as before.
      },
    );
    this.verificationLoads?.push(loading);
  }

  private find(id: string): ChatItem | undefined {
    for (const chat of this.chats.values()) {
      const item = chat.items.get(id);
      if (item) return item;
    }
    return undefined;
  }

  /** Adds or merges a text; a status already known for its id wins if it is further along. */
  private insertText(message: MessageView): void {
    // A send or a load that finishes after stop() must not bring messages back.
    if (this.stopped) return;
    const items = this.chat(message.chatId).items;
    const existing = items.get(message.id);
    const base = existing?.kind === 'text' ? existing : message;
    let status = existing?.kind === 'text' ? later(existing.status, message.status) : message.status;
    const known = this.statuses.get(message.id);
    if (known !== undefined && (message.outgoing || known === MessageStatus.Read)) status = later(status, known);
    items.set(message.id, { ...base, status });
  }

  /** Adds a notice, or updates the count of one already shown (a burst goes on). */
  private insertNotice(notice: StoredNotice): void {
    if (this.stopped) return;
    const items = this.chat(notice.chatId).items;
    const existing = items.get(notice.messageId);
    if (existing?.kind === 'notice' && existing.count >= notice.count) return;
    items.set(notice.messageId, noticeView(notice));
  }

  /** The draft becomes the SDK's message `messageId`. */
  private replaceDraft(draft: MessageView, messageId: string, sentAt: number, status: MessageStatus): void {
    const chat = this.chats.get(draft.chatId);
    if (this.stopped || !chat) return;
    chat.items.delete(draft.id);
    this.insertText({ ...draft, id: messageId, sentAt, status, retryable: true });
  }

  /** Where an unsent message stands now, from the SDK: sent, refused, or still on its way. */
  private async settle(messageId: string): Promise<void> {
    let pending: readonly PendingMessage[];
    try {
      pending = await this.client.pendingMessages();
    } catch {
      return;
    }
    if (this.stopped) return;
    const entry = pending.find((candidate) => candidate.messageId === messageId);
    if (entry === undefined) {
      this.refusals.delete(messageId);
      this.raise([messageId], MessageStatus.Sent, false);
      return;
    }
    if (entry.failure !== null) this.refusals.set(messageId, { code: entry.failure.code, message: entry.failure.message });
    this.changed();
  }

  /** Records a status for ids whose message may not be here yet. */
  private note(id: string, status: MessageStatus): void {
    this.statuses.set(id, later(this.statuses.get(id) ?? status, status));
  }

  /**
   * Moves messages forward to `status`: outgoing ones for ticks (`outgoingOnly`), incoming ones
   * for "read". Persists it when asked (ticks and reads survive a reload).
   */
  private raise(ids: readonly string[], status: MessageStatus, persist: boolean, outgoingOnly?: boolean): void {
    for (const id of ids) {
      this.note(id, status);
      for (const chat of this.chats.values()) {
        const message = chat.items.get(id);
        if (message?.kind !== 'text') continue;
        if (outgoingOnly !== undefined && message.outgoing !== outgoingOnly) continue;
        chat.items.set(id, { ...message, status: later(message.status, status) });
      }
      if (persist || status === MessageStatus.Read) void this.persist(`${STATUS_PREFIX}${id}`, this.statuses.get(id));
    }
    this.changed();
  }

  private async persist(key: string, value: unknown): Promise<void> {
    if (this.stopped) return;
    try {
      await this.store.put(StoreTable.Meta, key, value);
    } catch {
      // The store closed (logged out, or another tab took the device): nothing is left to keep it for.
    }
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
