/**
 * The list of chats with their last message and unread count, and "New chat".
 * @module
 */
import { useState } from 'preact/hooks';
import { formatMessageTime } from '../platform/format.js';
import type { Session } from '../session.js';
import { Link, chatPath } from '../ui/router.js';
import { NewChat } from './new-chat.js';
import { noticeText } from './notice-text.js';

/** Props of the chat list. */
export interface ChatListProps {
  readonly session: Session;
  readonly openChatId: string | null;
}

/** The left pane (or the whole screen on a phone). */
export function ChatList({ session, openChatId }: ChatListProps) {
  const [composing, setComposing] = useState(false);
  const summaries = session.chats.list();
  const self = session.client.accountId;
  return (
    <section class="chat-list-pane" aria-labelledby="chats-title">
      <header class="pane-header">
        <h2 id="chats-title">Chats</h2>
        <button type="button" class="button primary small" onClick={() => setComposing(!composing)} aria-expanded={composing}>
          New chat
        </button>
      </header>
      {composing && <NewChat session={session} onDone={() => setComposing(false)} />}
      {summaries.length === 0 ? (
        <div class="empty-state">
          <p>No chats yet.</p>
          <p>Start one with "New chat" and the username of someone on this server.</p>
        </div>
      ) : (
        <ul class="chat-list" aria-label="Chat list">
          {summaries.map((chat) => {
            const name = chat.chatId === self ? `${chat.chatId} (you)` : chat.chatId;
            const last = chat.lastItem;
            const preview =
              last === null ? 'No messages yet' : last.kind === 'notice' ? noticeText(last, chat.chatId) : `${last.outgoing ? 'You: ' : ''}${last.text}`;
            return (
              <li key={chat.chatId}>
                <Link to={chatPath(chat.chatId)} class="chat-row" current={chat.chatId === openChatId}>
                  <span class="chat-name">{name}</span>
                  <span class="chat-time">{last ? formatMessageTime(last.sentAt) : ''}</span>
                  <span class="chat-preview">{preview}</span>
                  {chat.unread > 0 && (
                    <span class="badge">
                      {chat.unread}
                      <span class="visually-hidden"> unread</span>
                    </span>
                  )}
                </Link>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
