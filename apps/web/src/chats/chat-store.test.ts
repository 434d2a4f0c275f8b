import type { ClientEventMap } from '@pairwise/client/client-events';
import { StoreTable } from '@pairwise/client/client-store';
import { MemoryStore } from '@pairwise/client/memory-store';
import { describe, expect, it, vi } from 'vitest';
import { ChatStore, MessageStatus, type ChatClient } from './chat-store.js';

/** A client that emits what the test says and records what the store asks of it. */
class FakeClient implements ChatClient {
  readonly accountId = 'alice';
  private readonly listeners = new Map<keyof ClientEventMap, Set<(value: never) => void>>();
  private nextId = 0;
  readonly sendText = vi.fn((_to: string, _text: string) => Promise.resolve({ messageId: `id${++this.nextId}`.padEnd(32, '0') }));
  readonly markRead = vi.fn((_chatId: string, _ids: readonly string[]) => Promise.resolve());

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
}

async function started(store = new MemoryStore(), client = new FakeClient()) {
  const chats = new ChatStore(client, store, () => 5000);
  await chats.start();
  return { chats, client, store };
}

const statusOf = (chats: ChatStore, chatId: string) => chats.messages(chatId).map((message) => message.status);

describe('ChatStore', () => {
  it('loads the history the SDK stored, with messages still in the outbox as sending', async () => {
    const store = new MemoryStore();
    const stored = (chatId: string, messageId: string, sentAt: number, outgoing: boolean) =>
      store.put(StoreTable.Messages, `${chatId}/${String(sentAt).padStart(15, '0')}/${messageId}`, {
        chatId,
        messageId,
        text: `m${sentAt}`,
        sentAt,
        outgoing,
        senderAccountId: outgoing ? 'alice' : chatId,
        senderDeviceId: 'd',
      });
    await stored('bob', 'a1', 100, true);
    await stored('bob', 'a2', 200, true);
    await stored('bob', 'b1', 300, false);
    await stored('carol', 'c1', 400, false);
    await store.put(StoreTable.Outbox, `${'200'.padStart(15, '0')}/a2`, {});
    await store.put(StoreTable.Meta, 'app/status/a1', MessageStatus.Read);
    const { chats } = await started(store);
    expect(statusOf(chats, 'bob')).toEqual(['read', 'sending', 'unread']);
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

  it('keeps a refused message as failed, with the reason', async () => {
    const client = new FakeClient();
    client.sendText.mockRejectedValueOnce(new Error('No such account'));
    const { chats } = await started(new MemoryStore(), client);
    await chats.send('nobody', 'Hi');
    expect(chats.messages('nobody').map((message) => [message.status, message.error])).toEqual([['failed', 'No such account']]);
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

    await store.put(StoreTable.Messages, `bob/${'1000'.padStart(15, '0')}/b1`, { chatId: 'bob', messageId: 'b1', text: 'Hello', sentAt: 1000, outgoing: false });
    await store.put(StoreTable.Messages, `erin/${'900'.padStart(15, '0')}/e1`, { chatId: 'erin', messageId: 'e1', text: 'Yo', sentAt: 900, outgoing: true });
    const second = await started(store);
    expect(second.chats.has('dave')).toBe(true);
    expect(statusOf(second.chats, 'bob')).toEqual(['read']);
    expect(statusOf(second.chats, 'erin')).toEqual(['delivered']);
  });
});
