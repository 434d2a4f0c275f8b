/**
 * One conversation: the messages as a live log, ticks on ours, and the composer. Messages are
 * marked read while the conversation is open and the page visible.
 * @module
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatClock, formatDateTime } from '../platform/format.js';
import type { Session } from '../session.js';
import { Link } from '../ui/router.js';
import { MessageStatus, type MessageView } from './chat-store.js';

/** Props of a conversation. */
export interface ConversationProps {
  readonly session: Session;
  readonly chatId: string;
}

/** The open chat. */
export function Conversation({ session, chatId }: ConversationProps) {
  const { chats } = session;
  const messages = chats.messages(chatId);
  const [draft, setDraft] = useState('');
  const log = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const unread = messages.some((message) => message.status === MessageStatus.Unread);

  useEffect(() => input.current?.focus(), []);

  // Keep the newest message in view.
  const count = messages.length;
  useEffect(() => {
    const element = log.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [count]);

  useEffect(() => {
    const markIfVisible = () => {
      if (document.visibilityState === 'visible') chats.markRead(chatId);
    };
    if (unread) markIfVisible();
    document.addEventListener('visibilitychange', markIfVisible);
    return () => document.removeEventListener('visibilitychange', markIfVisible);
  }, [chats, chatId, unread]);

  const send = (event: Event) => {
    event.preventDefault();
    const text = draft.trim();
    if (text === '') return;
    setDraft('');
    void chats.send(chatId, text);
    input.current?.focus();
  };

  const title = chatId === session.client.accountId ? `${chatId} (you)` : chatId;
  return (
    <div class="conversation">
      <header class="pane-header">
        <Link to="/chats" class="back" label="Back to chats">
          ←
        </Link>
        <h2>{title}</h2>
      </header>
      <div class="messages" role="log" aria-label="Messages" tabIndex={0} ref={log}>
        {messages.length === 0 ? (
          <p class="empty-state">No messages yet. Only you and {chatId} can read what you write here.</p>
        ) : (
          <ol>
            {messages.map((message) => (
              <MessageItem key={message.id} message={message} />
            ))}
          </ol>
        )}
      </div>
      <form class="composer" onSubmit={send}>
        <input
          ref={input}
          value={draft}
          onInput={(event) => setDraft(event.currentTarget.value)}
          aria-label="Message"
          placeholder="Write a message"
          autocomplete="off"
          maxLength={4000}
        />
        <button type="submit" class="button primary" disabled={draft.trim() === ''}>
          Send
        </button>
      </form>
    </div>
  );
}

const TICKS: Partial<Record<MessageStatus, { readonly mark: string; readonly label: string }>> = {
  sending: { mark: '◷', label: 'Sending' },
  sent: { mark: '✓', label: 'Sent' },
  delivered: { mark: '✓✓', label: 'Delivered' },
  read: { mark: '✓✓', label: 'Read' },
};

function MessageItem({ message }: { readonly message: MessageView }) {
  const tick = message.outgoing ? TICKS[message.status] : undefined;
  return (
    <li class={`message ${message.outgoing ? 'outgoing' : 'incoming'} ${message.status}`}>
      <p class="message-text">{message.text}</p>
      <span class="message-meta">
        <time dateTime={new Date(message.sentAt).toISOString()} title={formatDateTime(message.sentAt)}>
          {formatClock(message.sentAt)}
        </time>
        {tick && (
          <span class={`ticks ${message.status}`} role="img" aria-label={tick.label}>
            {tick.mark}
          </span>
        )}
      </span>
      {message.status === MessageStatus.Failed && <span class="error">Not sent: {message.error}</span>}
    </li>
  );
}
