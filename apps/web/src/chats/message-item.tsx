/**
 * A text message in a conversation: its text, time and ticks; "Waiting" while its contact is held;
 * "Not sent" with the reason and "Retry" when the server refused it.
 * @module
 */
import { formatClock, formatDateTime } from '../platform/format.js';
import { MessageStatus, type MessageView, type SendRefusal } from './chat-item.js';

const TICKS: Partial<Record<MessageStatus, { readonly mark: string; readonly label: string }>> = {
  sending: { mark: '◷', label: 'Sending' },
  waiting: { mark: '◷', label: 'Waiting' },
  sent: { mark: '✓', label: 'Sent' },
  delivered: { mark: '✓✓', label: 'Delivered' },
  read: { mark: '✓✓', label: 'Read' },
};

/** Why it was not sent, in words (the server's error table is already written for people). */
function describeRefusal(failure: SendRefusal): string {
  if (failure.code === 'UNKNOWN_ACCOUNT') return 'there is no account with that username on this server.';
  return failure.message.endsWith('.') ? failure.message : `${failure.message}.`;
}

/** Props of a message. */
export interface MessageItemProps {
  readonly message: MessageView;
  readonly onRetry: (messageId: string) => void;
}

/** One bubble. */
export function MessageItem({ message, onRetry }: MessageItemProps) {
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
      {message.status === MessageStatus.Failed && message.failure !== null && (
        <p class="send-failure">
          <span class="error">Not sent: {describeRefusal(message.failure)}</span>
          {message.retryable && (
            <button type="button" class="button small" onClick={() => onRetry(message.id)}>
              Retry
            </button>
          )}
        </p>
      )}
    </li>
  );
}
