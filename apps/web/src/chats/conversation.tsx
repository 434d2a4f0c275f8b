/**
 * One conversation: messages and notices as a live log, ticks on ours, "Verify safety number" in
 * the header, the held-sends banner while the contact's new safety number waits for a decision,
 * and the composer. Messages are marked read while the conversation is open and the page visible.
 * @module
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Session } from '../session.js';
import { Link } from '../ui/router.js';
import { MessageStatus } from './chat-item.js';
import { HeldBanner } from './held-banner.js';
import { MessageItem } from './message-item.js';
import { NoticeItem } from './notice-item.js';
import { SafetyNumberDialog } from './safety-number-dialog.js';

/** Props of a conversation. */
export interface ConversationProps {
  readonly session: Session;
  readonly chatId: string;
}

/** The open chat. */
export function Conversation({ session, chatId }: ConversationProps) {
  const { chats } = session;
  const items = chats.timeline(chatId);
  const verification = chats.verificationOf(chatId);
  const isSelf = chatId === session.client.accountId;
  const [draft, setDraft] = useState('');
  const [verifying, setVerifying] = useState(false);
  const log = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const unread = items.some((item) => item.kind === 'text' && item.status === MessageStatus.Unread);

  useEffect(() => input.current?.focus(), []);

  // Keep the newest message in view.
  const count = items.length;
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

  const verify = () => setVerifying(true);
  const title = isSelf ? `${chatId} (you)` : chatId;
  return (
    <div class="conversation">
      <header class="pane-header">
        <Link to="/chats" class="back" label="Back to chats">
          ←
        </Link>
        <h2>{title}</h2>
        {verification === 'verified' && <span class="badge-label on">Verified</span>}
        {/* A note to self has no one to compare numbers with. */}
        {!isSelf && (
          <button type="button" class="button small" onClick={verify}>
            Verify safety number
          </button>
        )}
      </header>
      <div class="messages" role="log" aria-label="Messages" tabIndex={0} ref={log}>
        {items.length === 0 ? (
          <p class="empty-state">No messages yet. Only you and {chatId} can read what you write here.</p>
        ) : (
          <ol>
            {items.map((item) =>
              item.kind === 'text' ? (
                <MessageItem key={item.id} message={item} onRetry={(id) => void chats.retry(id)} />
              ) : (
                <NoticeItem key={item.id} notice={item} name={chatId} onVerify={verify} />
              ),
            )}
          </ol>
        )}
      </div>
      {verification === 'held' && <HeldBanner name={chatId} onSendAnyway={() => chats.sendAnyway(chatId)} onVerify={verify} />}
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
      {verifying && <SafetyNumberDialog session={session} chatId={chatId} onClose={() => setVerifying(false)} />}
    </div>
  );
}
