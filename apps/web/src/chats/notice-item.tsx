/**
 * A notice between the messages of a conversation: the contact's safety number changed (with a
 * way to verify the new one), or messages from them could not be decrypted (one notice per
 * burst, its count growing). Notices are facts about the conversation, not messages: they are
 * never unread.
 * @module
 */
import { formatClock, formatDateTime } from '../platform/format.js';
import type { NoticeView } from './chat-item.js';
import { noticeText } from './notice-text.js';

/** Props of a notice. */
export interface NoticeItemProps {
  readonly notice: NoticeView;
  /** The contact's name as the conversation shows it. */
  readonly name: string;
  /** Opens the safety number dialog. */
  readonly onVerify: () => void;
}

/** One notice, centred in the log. */
export function NoticeItem({ notice, name, onVerify }: NoticeItemProps) {
  const changed = notice.notice === 'safety-number-changed';
  return (
    <li class={`notice-item ${notice.notice}`}>
      <p class="notice-text">{noticeText(notice, name)}</p>
      {!changed && (
        <p class="notice-hint">They may have sent it before reinstalling Pairwise, or it was damaged on the way. Ask them to send it again.</p>
      )}
      <span class="message-meta">
        <time dateTime={new Date(notice.sentAt).toISOString()} title={formatDateTime(notice.sentAt)}>
          {formatClock(notice.sentAt)}
        </time>
        {changed && (
          // Named in full: a log may hold several such notices, and "Verify" alone says little.
          <button type="button" class="link-button" onClick={onVerify} aria-label={`Verify ${name}'s safety number`}>
            Verify
          </button>
        )}
      </span>
    </li>
  );
}
