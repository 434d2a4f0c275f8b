/**
 * Chats, for both roles: the list beside the open conversation on a wide screen, one at a time on
 * a narrow one.
 * @module
 */
import { useCallback } from 'preact/hooks';
import type { Session } from '../session.js';
import { chatOfPath, useRoute } from '../ui/router.js';
import { useChanges } from '../ui/use-changes.js';
import { ChatList } from './chat-list.js';
import { Conversation } from './conversation.js';

/** The chats screen of a session. */
export function ChatsView({ session }: { readonly session: Session }) {
  const { chats } = session;
  useChanges(useCallback((listener: () => void) => chats.subscribe(listener), [chats]));
  const chatId = chatOfPath(useRoute());
  return (
    <div class={`chats-layout ${chatId === null ? 'show-list' : 'show-conversation'}`}>
      <ChatList session={session} openChatId={chatId} />
      <section class="conversation-pane" aria-label={chatId === null ? 'Conversation' : `Conversation with ${chatId}`}>
        {chatId === null ? (
          <div class="empty-state">
            <h2>Your messages</h2>
            <p>Choose a chat, or start a new one. Messages are end-to-end encrypted: the server cannot read them.</p>
          </div>
        ) : (
          <Conversation key={chatId} session={session} chatId={chatId} />
        )}
      </section>
    </div>
  );
}
