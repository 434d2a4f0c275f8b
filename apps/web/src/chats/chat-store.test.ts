import type { ClientEventMap } from '@pairwise/client/client-events';
import { StoreTable } from '@pairwise/client/client-store';
import type { VerificationState } from '@pairwise/client/contacts';
import { ConnectionClosedError, SendFailedError } from '@pairwise/client/errors';
import { historyKey, type StoredMessage, type StoredNotice, type StoredText } from '@pairwise/client/history';
import { MemoryStore } from '@pairwise/client/memory-store';
import type { PendingMessage } from '@pairwise/client/outbox';
import { describe, expect, it, vi } from 'vitest';
import { MessageStatus, type NoticeView } from './chat-item.js';
import { ChatStore, type ChatClient } from './chat-store.js';

/** What the fake server does with the next sends. */
type SendOutcome = 'accept' | 'refuse';

/**
 * A client that behaves as the SDK does where the chat store can tell: a send is written to the
 * history and kept pending until the server accepts it (then 'sent'), refuses it (then
 * 'send-failed', and it stays pending with its failure), or the contact is held (it waits for
 * "Send anyway"). Everything else is emitted by the test.
 */
class FakeClient implements ChatClient {
  readonly accountId = 'alice';
  private readonly listeners = new Map<keyof ClientEventMap, Set<(value: never) => void>>();
  private nextId = 0;
  private readonly pending = new Map<string, PendingMessage & { resume?: () => void; resolve?: () => void }>();
  readonly states = new Map<string, VerificationState>();
  outcome: SendOutcome = 'accept';
  clock = 2000;

  constructor(private readonly store: MemoryStore) {}

  readonly markRead = vi.fn((_chatId: string, _ids: readonly string[]) => Promise.resolve());

  readonly sendText = vi.fn(async (to: string, text: string) => {
    const messageId = `id${++this.nextId}`.padEnd(32, '0');
    const sentAt = this.clock++;
    await this.store.put(StoreTable.Messages, historyKey(to, sentAt, messageId), {
      kind: 'text',
      chatId: to,
      messageId,
      senderAccountId: this.accountId,
      senderDeviceId: 'd',
      sentAt,
      outgoing: true,
      text,
    } satisfies StoredMessage);
    this.pending.set(messageId, { messageId, chatId: to, failure: null });
    await this.deliver(messageId);
    return { messageId };
  });

  readonly retry = vi.fn(async (messageId: string) => {
    const entry = this.pending.get(messageId);
    if (!entry) throw new RangeError(`no unsent message ${messageId}`);
    this.pending.set(messageId, { ...entry, failure: null });
    await this.deliver(messageId);
  });

  readonly sendAnyway = vi.fn((accountId: string) => {
    this.decide(accountId, 'default');
    return Promise.resolve();
  });

  /** A decision about `accountId` (here or synced): as the SDK, it lifts the hold on their sends. */
  decide(accountId: string, state: VerificationState): void {
    this.states.set(accountId, state);
    this.emit('verification-changed', { accountId, state });
    if (state !== 'held') for (const entry of this.pending.values()) if (entry.chatId === accountId) entry.resume?.();
  }

  pendingMessages(): Promise<PendingMessage[]> {
    return Promise.resolve([...this.pending.values()].map(({ messageId, chatId, failure }) => ({ messageId, chatId, failure })));
  }

  verificationOf(accountId: string): Promise<VerificationState> {
    return Promise.resolve(this.states.get(accountId) ?? 'default');
  }

  on<K extends keyof ClientEventMap>(event: K, listener: (value: ClientEventMap[K]) => void): () => void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(listener);
    this.listeners.set(event, set);
    return () => set.delete(listener);
  }

  emit<K extends keyof ClientEventMap>(event: K, value: ClientEventMap[K]): void {
    for (const listener of this.listeners.get(event) ?? []) (listener as (value: ClientEventMap[K]) => void)(value);
  }

  incoming(chatId: string, messageId: string, text: string, sentAt = 1000): void {
    this.emit('message', { chatId, messageId, senderAccountId: chatId, senderDeviceId: 'd', text, sentAt, outgoing: false });
  }

  receipt(chatId: string, from: string, type: 'delivered' | 'read', messageIds: string[]): void {
    this.emit('receipt', { chatId, type, messageIds, fromAccountId: from, fromDeviceId: 'd' });
  }

  /** The SDK's delivery: parked while the recipient is held, then accepted or refused. */
  private async deliver(messageId: string): Promise<void> {
    const entry = this.pending.get(messageId)!;
    if (this.states.get(entry.chatId) === 'held') {
      await new Promise<void>((resume) => this.pending.set(messageId, { ...entry, resume }));
    }
    if (this.outcome === 'accept') {
      this.pending.delete(messageId);
      this.emit('sent', { messageId, chatId: entry.chatId, serverTime: this.clock });
      return;
    }
    const failure = { code: 'UNKNOWN_ACCOUNT', message: 'No such account', at: this.clock };
    this.pending.set(messageId, { messageId, chatId: entry.chatId, failure });
    this.emit('send-failed', { messageId, chatId: entry.chatId, ...failure });
    throw new SendFailedError(messageId, entry.chatId, failure.code, failure.message);
  }
}

async function started(store = new MemoryStore(), client = new FakeClient(store)) {
  const chats = new ChatStore(client, store, () => 5000);
  await chats.start();
  return { chats, client, store };
}

const statusOf = (chats: ChatStore, chatId: string) => chats.messages(chatId).map((message) => message.status);

function stored(chatId: string, messageId: string, sentAt: number, outgoing: boolean): StoredText {
  return { kind: 'text', chatId, messageId, text: `m${sentAt}`, sentAt, outgoing, senderAccountId: outgoing ? 'alice' : chatId, senderDeviceId: 'd' };
}

function notice(chatId: string, messageId: string, kind: StoredNotice['notice'], sentAt: number, count = 1): StoredNotice {
  return { kind: 'notice', notice: kind, chatId, messageId, sentAt, count, senderAccountId: chatId, senderDeviceId: 'd', outgoing: false };
}

async function put(store: MemoryStore, record: StoredMessage): Promise<void> {
  await store.put(StoreTable.Messages, historyKey(record.chatId, record.sentAt, record.messageId), record);
}

/** The statuses a chat shows once pending promises have run. */
async function settled(chats: ChatStore, chatId: string): Promise<string[]> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  return statusOf(chats, chatId);
}

describe('ChatStore', () => {
  it('loads the history the SDK stored, with unsent messages as sending or failed from pendingMessages()', async () => {
    const store = new MemoryStore();
    await put(store, stored('bob', 'a1', 100, true));
    await put(store, stored('bob', 'a2', 200, true));
    await put(store, stored('bob', 'a3', 250, true));
    await put(store, stored('bob', 'b1', 300, false));
    await put(store, stored('carol', 'c1', 400, false));
    await store.put(StoreTable.Meta, 'app/status/a1', MessageStatus.Read);
    const client = new FakeClient(store);
    vi.spyOn(client, 'pendingMessages').mockResolvedValue([
      { messageId: 'a2', chatId: 'bob', failure: null },
      { messageId: 'a3', chatId: 'bob', failure: { code: 'UNKNOWN_ACCOUNT', message: 'No such account', at: 260 } },
    ]);
    const { chats } = await started(store, client);
    expect(statusOf(chats, 'bob')).toEqual(['read', 'sending', 'failed', 'unread']);
    expect(chats.messages('bob')[2]).toMatchObject({ failure: { code: 'UNKNOWN_ACCOUNT', message: 'No such account' }, retryable: true });
    expect(chats.list().map((chat) => [chat.chatId, chat.unread])).toEqual([
      ['carol', 1],
      ['bob', 1],
    ]);
  });

  it('counts incoming messages as unread until the chat is read, then tells the sender once', async () => {
    const { chats, client } = await started();
    client.incoming('bob', 'b1', 'Hello');
    client.incoming('bob', 'b2', 'Are you there?', 1001);
    expect(chats.list()[0]?.unread).toBe(2);
    chats.markRead('bob');
    chats.markRead('bob');
    expect(chats.list()[0]?.unread).toBe(0);
    expect(client.markRead).toHaveBeenCalledTimes(1);
    expect(client.markRead).toHaveBeenCalledWith('bob', ['b1', 'b2']);
  });

  it('shows a sent message at once, then moves its ticks forward only', async () => {
    const { chats, client } = await started();
    const sending = chats.send('bob', 'Hi');
    expect(statusOf(chats, 'bob')).toEqual(['sending']);
    await sending;
    const [message] = chats.messages('bob');
    expect(message?.status).toBe('sent');
    client.receipt('bob', 'bob', 'read', [message!.id]);
    client.receipt('bob', 'bob', 'delivered', [message!.id]);
    expect(statusOf(chats, 'bob')).toEqual(['read']);
  });

  it('applies a receipt that arrives before its message', async () => {
    const { chats, client } = await started();
    client.receipt('bob', 'bob', 'delivered', ['x1']);
    client.emit('message', { chatId: 'bob', messageId: 'x1', senderAccountId: 'alice', senderDeviceId: 'd2', text: 'from my laptop', sentAt: 1, outgoing: true });
    expect(statusOf(chats, 'bob')).toEqual(['delivered']);
  });

  it('marks messages read on another of our devices as read here, without a receipt of its own', async () => {
    const { chats, client } = await started();
    client.incoming('bob', 'b1', 'Hello');
    client.receipt('bob', 'alice', 'read', ['b1']);
    expect(statusOf(chats, 'bob')).toEqual(['read']);
    expect(client.markRead).not.toHaveBeenCalled();
  });

  it('keeps ticks, reads and empty chats across a restart', async () => {
    const store = new MemoryStore();
    const first = await started(store);
    await first.chats.addChat('dave');
    first.client.incoming('bob', 'b1', 'Hello');
    first.chats.markRead('bob');
    first.client.receipt('erin', 'erin', 'delivered', ['e1']);
    await vi.waitFor(async () => expect(await store.list(StoreTable.Meta, 'app/')).toHaveLength(3));
    first.chats.stop();

    await put(store, { ...stored('bob', 'b1', 1000, false), text: 'Hello' });
    await put(store, { ...stored('erin', 'e1', 900, true), text: 'Yo' });
    const second = await started(store);
    expect(second.chats.has('dave')).toBe(true);
    expect(statusOf(second.chats, 'bob')).toEqual(['read']);
    expect(statusOf(second.chats, 'erin')).toEqual(['delivered']);
  });

  describe('notices', () => {
    it('[VERIFY-2] shows notices in time order with the messages, never as unread and never marked read', async () => {
      const store = new MemoryStore();
      await put(store, stored('bob', 'b1', 100, false));
      await put(store, notice('bob', 'notice-1', 'undecryptable', 150));
      await put(store, stored('bob', 'a1', 200, true));
      const { chats, client } = await started(store);
      client.emit('identity-changed', { accountId: 'bob', notice: notice('bob', 'notice-2', 'safety-number-changed', 250) });
      client.incoming('bob', 'b2', 'New phone, who dis', 300);

      expect(chats.timeline('bob').map((item) => [item.kind, item.id])).toEqual([
        ['text', 'b1'],
        ['notice', 'notice-1'],
        ['text', 'a1'],
        ['notice', 'notice-2'],
        ['text', 'b2'],
      ]);
      expect(chats.list()[0]).toMatchObject({ chatId: 'bob', unread: 2, updatedAt: 300 });
      chats.markRead('bob');
      expect(client.markRead).toHaveBeenCalledWith('bob', ['b1', 'b2']);
      expect(chats.list()[0]?.unread).toBe(0);
    });

    it('[RECEIVE-1] keeps one notice per burst of undecryptable messages, its count going up live', async () => {
      const { chats, client } = await started();
      const changes = vi.fn();
      chats.subscribe(changes);
      const failed = (count: number) =>
        client.emit('decrypt-failed', {
          chatId: 'bob',
          senderAccountId: 'bob',
          senderDeviceId: 'd',
          count,
          notice: notice('bob', 'notice-burst', 'undecryptable', 700, count),
        });
      failed(1);
      failed(2);
      failed(3);
      const notices = () => chats.timeline('bob').filter((item): item is NoticeView => item.kind === 'notice');
      expect(notices().map((item) => [item.id, item.count])).toEqual([['notice-burst', 3]]);
      expect(changes).toHaveBeenCalledTimes(3);
      // A late, lower count (a reload racing the event) never takes the count back.
      failed(2);
      expect(notices()[0]?.count).toBe(3);
      expect(chats.list()[0]?.unread).toBe(0);
    });

    it('starts a chat for a notice from someone never written to', async () => {
      const { chats, client } = await started();
      client.emit('decrypt-failed', { chatId: 'mallory', senderAccountId: 'mallory', senderDeviceId: 'd', count: 1, notice: notice('mallory', 'n1', 'undecryptable', 10) });
      expect(chats.has('mallory')).toBe(true);
      expect(chats.list()[0]).toMatchObject({ chatId: 'mallory', unread: 0, lastItem: { kind: 'notice', id: 'n1' } });
    });
  });

  describe('held sends', () => {
    it('[VERIFY-3] shows messages to a held contact as waiting, and as sending then sent after "Send anyway"', async () => {
      const store = new MemoryStore();
      await put(store, stored('bob', 'a1', 100, true));
      const client = new FakeClient(store);
      client.states.set('bob', 'held');
      vi.spyOn(client, 'pendingMessages').mockResolvedValueOnce([{ messageId: 'a1', chatId: 'bob', failure: null }]);
      const { chats } = await started(store, client);
      expect(chats.verificationOf('bob')).toBe('held');
      expect(statusOf(chats, 'bob')).toEqual(['waiting']);

      const sending = chats.send('bob', 'Are you really you?');
      expect(await settled(chats, 'bob')).toEqual(['waiting', 'waiting']);
      await chats.sendAnyway('bob');
      expect(chats.verificationOf('bob')).toBe('default');
      await sending;
      // The one loaded from the history waits for its own 'sent' (the SDK resends it).
      expect(statusOf(chats, 'bob')).toEqual(['sending', 'sent']);
      client.emit('sent', { messageId: 'a1', chatId: 'bob', serverTime: 1 });
      expect(statusOf(chats, 'bob')).toEqual(['sent', 'sent']);
    });

    it('follows verification-changed: verified, then held after a key change, then verified again', async () => {
      const { chats, client } = await started();
      await chats.addChat('bob');
      const changes = vi.fn();
      chats.subscribe(changes);
      client.decide('bob', 'verified');
      expect(chats.verificationOf('bob')).toBe('verified');
      expect(changes).toHaveBeenCalledTimes(1);
      client.decide('bob', 'held');
      const sending = chats.send('bob', 'Hello?');
      expect(await settled(chats, 'bob')).toEqual(['waiting']);
      // Verified again (on this device or another): the held message goes.
      client.decide('bob', 'verified');
      await sending;
      expect(statusOf(chats, 'bob')).toEqual(['sent']);
      expect(client.sendAnyway).not.toHaveBeenCalled();
    });

    it('does not let a slow verification read undo a newer event', async () => {
      const store = new MemoryStore();
      const client = new FakeClient(store);
      let answer!: (state: VerificationState) => void;
      vi.spyOn(client, 'verificationOf').mockReturnValueOnce(new Promise((resolve) => (answer = resolve)));
      const chats = new ChatStore(client, store, () => 5000);
      await chats.start();
      client.incoming('bob', 'b1', 'Hi');
      client.emit('verification-changed', { accountId: 'bob', state: 'held' });
      answer('default');
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(chats.verificationOf('bob')).toBe('held');
    });
  });

  describe('failed sends', () => {
    it('[SEND-1] shows a refused message as failed with the reason, and "Retry" takes it back to sending, then sent', async () => {
      const store = new MemoryStore();
      const client = new FakeClient(store);
      client.outcome = 'refuse';
      const { chats } = await started(store, client);
      await chats.send('nobody', 'Hi');
      const [failed] = chats.messages('nobody');
      expect(failed).toMatchObject({ status: 'failed', failure: { code: 'UNKNOWN_ACCOUNT', message: 'No such account' }, retryable: true });
      // The draft became the SDK's own message: that is what Retry sends again.
      expect(failed?.id).toBe('id1'.padEnd(32, '0'));

      client.outcome = 'accept';
      let resume!: () => void;
      client.retry.mockImplementationOnce(async (messageId: string) => {
        await new Promise<void>((resolve) => (resume = resolve));
        client.emit('sent', { messageId, chatId: 'nobody', serverTime: 1 });
      });
      const retrying = chats.retry(failed!.id);
      expect(statusOf(chats, 'nobody')).toEqual(['sending']);
      expect(client.retry).toHaveBeenCalledWith(failed!.id);
      resume();
      await retrying;
      expect(statusOf(chats, 'nobody')).toEqual(['sent']);
    });

    it('shows a message refused again after Retry as failed again', async () => {
      const store = new MemoryStore();
      const client = new FakeClient(store);
      client.outcome = 'refuse';
      const { chats } = await started(store, client);
      await chats.send('nobody', 'Hi');
      const [failed] = chats.messages('nobody');
      await chats.retry(failed!.id);
      expect(statusOf(chats, 'nobody')).toEqual(['failed']);
      expect(client.retry).toHaveBeenCalledTimes(1);
    });

    it('keeps failures across a restart, from pendingMessages(), ready for Retry', async () => {
      const store = new MemoryStore();
      const client = new FakeClient(store);
      client.outcome = 'refuse';
      const first = await started(store, client);
      await first.chats.send('nobody', 'Hi');
      first.chats.stop();

      const second = await started(store, client);
      const [message] = second.chats.messages('nobody');
      expect(message).toMatchObject({ text: 'Hi', status: 'failed', retryable: true });
      client.outcome = 'accept';
      await second.chats.retry(message!.id);
      expect(statusOf(second.chats, 'nobody')).toEqual(['sent']);
    });

    it('tells two refused drafts with the same text apart', async () => {
      const store = new MemoryStore();
      const client = new FakeClient(store);
      client.outcome = 'refuse';
      const { chats } = await started(store, client);
      await Promise.all([chats.send('nobody', 'Hi'), chats.send('nobody', 'Hi')]);
      const ids = chats.messages('nobody').map((message) => message.id);
      expect(new Set(ids).size).toBe(2);
      expect(ids.every((id) => !id.startsWith('local-'))).toBe(true);
    });

    it('marks a message refused before the SDK kept it as failed, without Retry', async () => {
      const client = new FakeClient(new MemoryStore());
      client.sendText.mockRejectedValueOnce(new TypeError('text must be a non-empty string'));
      const { chats } = await started(new MemoryStore(), client);
      await chats.send('bob', 'Hi');
      expect(chats.messages('bob').map((message) => [message.status, message.failure?.message, message.retryable])).toEqual([
        ['failed', 'text must be a non-empty string', false],
      ]);
      await chats.retry(chats.messages('bob')[0]!.id);
      expect(client.retry).not.toHaveBeenCalled();
    });

    it('keeps a send cut short by the client closing as sending, not failed', async () => {
      const client = new FakeClient(new MemoryStore());
      client.sendText.mockRejectedValueOnce(new ConnectionClosedError('this client was closed'));
      const { chats } = await started(new MemoryStore(), client);
      await chats.send('bob', 'Hi');
      expect(statusOf(chats, 'bob')).toEqual(['sending']);
    });

    it('a send that fails because the store stopped leaves nothing behind', async () => {
      const store = new MemoryStore();
      const client = new FakeClient(store);
      client.outcome = 'refuse';
      const { chats } = await started(store, client);
      const sending = chats.send('nobody', 'Hi');
      chats.stop();
      await sending;
      expect(chats.list()).toEqual([]);
    });
  });
});
