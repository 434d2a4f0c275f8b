/**
 * The chats as the screens show them: every conversation's messages, their ticks and unread
 * counts, kept in memory from the SDK's events and from what the SDK already stored (its
 * `messages` table). What the SDK does not keep, the app keeps beside it in the `meta` table under
 * `app/`: ticks received, messages read, and chats started before any message.
 * @module
 */
import type { ClientEventMap } from '@pairwise/client/client-events';
import { StoreTable, type ClientStore } from '@pairwise/client/client-store';

/** Where a message stands. Outgoing: sending, sent, delivered, read (or failed); incoming: unread or read. */
export const MessageStatus = {
  Sending: 'sending',
  Sent: 'sent',
  Delivered: 'delivered',
  Read: 'read',
  Failed: 'failed',
  Unread: 'unread',
} as const;
/** One of `MessageStatus`. */
export type MessageStatus = (typeof MessageStatus)[keyof typeof MessageStatus];

/** A message on screen. */
export interface MessageView {
  /** The SDK's message id, or a local one while the server has not accepted the message yet. */
  readonly id: string;
  readonly chatId: string;
  readonly text: string;
  readonly sentAt: number;
  readonly outgoing: boolean;
  readonly status: MessageStatus;
  /** Why a message failed, in words. */
  readonly error: string | null;
}

/** A row of the chat list. */
export interface ChatSummary {
  readonly chatId: string;
  readonly lastMessage: MessageView | null;
  readonly unread: number;
  readonly updatedAt: number;
}

/** The part of PairwiseClient the chats use (a fake one in tests). */
export interface ChatClient {
  readonly accountId: string;
  on<K extends keyof ClientEventMap>(event: K, listener: (value: ClientEventMap[K]) => void): () => void;
  sendText(to: string, text: string): Promise<{ readonly messageId: string }>;
  markRead(chatId: string, messageIds: readonly string[]): Promise<void>;
}

/** What the SDK keeps in its `messages` table. */
interface StoredMessage {
  readonly chatId: string;
  readonly messageId: string;
  readonly text: string;
  readonly sentAt: number;
  readonly outgoing: boolean;
}

const STATUS_PREFIX = 'app/status/';
const CHAT_PREFIX = 'app/chat/';

/** Outgoing ticks only move forward: a late "delivered" never undoes "read". */
const RANK: Record<MessageStatus, number> = { failed: -1, sending: 0, unread: 0, sent: 1, delivered: 2, read: 3 };

function later(current: MessageStatus, next: MessageStatus): MessageStatus {
  return RANK[next] > RANK[current] ? next : current;
}

function byTime(a: MessageView, b: MessageView): number {
  return a.sentAt - b.sentAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
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
  private readonly chats = new Map<string, { messages: Map<string, MessageView>; createdAt: number }>();
  /** Statuses known for message ids, including ones whose message has not arrived yet. */
  private readonly statuses = new Map<string, MessageStatus>();
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
    this.unsubscribe.push(
      client.on('message', (message) => {
        this.insert({
          id: message.messageId,
          chatId: message.chatId,
          text: message.text,
          sentAt: message.sentAt,
          outgoing: message.outgoing,
          status: message.outgoing ? MessageStatus.Sent : MessageStatus.Unread,
          error: null,
        });
        this.changed();
      }),
      client.on('sent', ({ messageId }) => this.raise([messageId], MessageStatus.Sent, false)),
      client.on('receipt', (receipt) => {
        if (receipt.fromAccountId === client.accountId) {
          // Read on another of our devices: the messages are read here too.
          if (receipt.type === 'read') this.raise(receipt.messageIds, MessageStatus.Read, true, false);
          return;
        }
        this.raise(receipt.messageIds, receipt.type === 'read' ? MessageStatus.Read : MessageStatus.Delivered, true, true);
      }),
    );
    const [messages, statuses, chats, outbox] = await Promise.all([
      this.store.list<StoredMessage>(StoreTable.Messages),
      this.store.list<MessageStatus>(StoreTable.Meta, STATUS_PREFIX),
      this.store.list<{ createdAt: number }>(StoreTable.Meta, CHAT_PREFIX),
      this.store.list<unknown>(StoreTable.Outbox),
    ]);
    for (const [key, status] of statuses) this.note(key.slice(STATUS_PREFIX.length), status);
    // The outbox is keyed "createdAt/messageId": those the server has not accepted yet.
    const waiting = new Set(outbox.map(([key]) => key.split('/')[1]));
    for (const [key, { createdAt }] of chats) this.chat(key.slice(CHAT_PREFIX.length), createdAt);
    for (const [, stored] of messages) {
      const fallback = stored.outgoing ? (waiting.has(stored.messageId) ? MessageStatus.Sending : MessageStatus.Sent) : MessageStatus.Unread;
      this.insert({
        id: stored.messageId,
        chatId: stored.chatId,
        text: stored.text,
        sentAt: stored.sentAt,
        outgoing: stored.outgoing,
        status: fallback,
        error: null,
      });
    }
    this.changed();
  }

  /**
   * Stops listening to the client and forgets every message it held: a locked app or a logged-out
   * device keeps nothing of the chats in memory (SPEC LOCK-2).
   */
  stop(): void {
    this.stopped = true;
    for (const off of this.unsubscribe.splice(0)) off();
    this.listeners.clear();
    this.chats.clear();
    this.statuses.clear();
  }

  /** Calls `listener` after every change; returns the function that stops it. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every chat, most recent first. */
  list(): ChatSummary[] {
    return [...this.chats.entries()]
      .map(([chatId, chat]): ChatSummary => {
        const messages = this.sorted(chat.messages);
        const lastMessage = messages.at(-1) ?? null;
        return {
          chatId,
          lastMessage,
          unread: messages.filter((message) => message.status === MessageStatus.Unread).length,
          updatedAt: lastMessage?.sentAt ?? chat.createdAt,
        };
      })
      .sort((a, b) => b.updatedAt - a.updatedAt || a.chatId.localeCompare(b.chatId));
  }

  /** A chat's messages, oldest first. */
  messages(chatId: string): MessageView[] {
    const chat = this.chats.get(chatId);
    return chat ? this.sorted(chat.messages) : [];
  }

  /** Whether a chat exists (it has messages or was started here). */
  has(chatId: string): boolean {
    return this.chats.has(chatId);
  }

  /** Starts an empty chat (kept across reloads). */
  async addChat(chatId: string): Promise<void> {
    if (this.chats.has(chatId)) return;
    const createdAt = this.now();
    this.chat(chatId, createdAt);
    this.changed();
    await this.persist(`${CHAT_PREFIX}${chatId}`, { createdAt });
  }

  /** Sends a text; the message shows at once as "sending", and as "failed" with a reason if refused. */
  async send(chatId: string, text: string): Promise<void> {
    const localId = `local-${++this.localIds}`;
    const draft: MessageView = { id: localId, chatId, text, sentAt: this.now(), outgoing: true, status: MessageStatus.Sending, error: null };
    this.insert(draft);
    this.changed();
    try {
      const { messageId } = await this.client.sendText(chatId, text);
      const messages = this.chat(chatId).messages;
      messages.delete(localId);
      this.insert({ ...draft, id: messageId, status: MessageStatus.Sent });
    } catch (error) {
      this.chat(chatId).messages.set(localId, {
        ...draft,
        status: MessageStatus.Failed,
        error: error instanceof Error ? error.message : 'The message could not be sent.',
      });
    }
    this.changed();
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

  private chat(chatId: string, createdAt = this.now()): { messages: Map<string, MessageView>; createdAt: number } {
    let chat = this.chats.get(chatId);
    if (!chat) {
      chat = { messages: new Map(), createdAt };
      this.chats.set(chatId, chat);
    }
    return chat;
  }

  private sorted(messages: Map<string, MessageView>): MessageView[] {
    return [...messages.values()].sort(byTime);
  }

  /** Adds or merges a message; a status already known for its id wins if it is further along. */
  private insert(message: MessageView): void {
    // A send or a load that finishes after stop() must not bring messages back.
    if (this.stopped) return;
    const messages = this.chat(message.chatId).messages;
    const existing = messages.get(message.id);
    let status = existing ? later(existing.status, message.status) : message.status;
    const known = this.statuses.get(message.id);
    if (known !== undefined && (message.outgoing || known === MessageStatus.Read)) status = later(status, known);
    messages.set(message.id, { ...(existing ?? message), status });
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
        const message = chat.messages.get(id);
        if (!message) continue;
        if (outgoingOnly !== undefined && message.outgoing !== outgoingOnly) continue;
        chat.messages.set(id, { ...message, status: later(message.status, status) });
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
      // The store closed (logged out): there is nothing left to keep it for.
    }
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
