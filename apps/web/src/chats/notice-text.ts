/**
 * The words of a conversation's notices, for the conversation and the chat list alike.
 * @module
 */
import type { NoticeView } from './chat-item.js';

/** "bob's safety number changed", "A message from bob could not be decrypted (3 messages)". */
export function noticeText(notice: Pick<NoticeView, 'notice' | 'count'>, name: string): string {
  switch (notice.notice) {
    case 'safety-number-changed':
      return `${name}'s safety number changed`;
    case 'undecryptable':
      return `A message from ${name} could not be decrypted${notice.count > 1 ? ` (${notice.count} messages)` : ''}`;
  }
}
