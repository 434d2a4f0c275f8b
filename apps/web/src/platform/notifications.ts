/**
 * Browser notifications for incoming messages, shown only while the page is hidden (someone
 * looking at the chat needs none) and only once the person turned them on and the browser allows
 * them. While the app is locked a notification says only "New message": no sender, no text
 * (SPEC LOCK-8).
 * @module
 */
import type { ChatMessage } from '@pairwise/client/client-events';

/** Where notifications go; the browser's Notification API by default, a fake in tests. */
export interface NotificationEnvironment {
  /** The browser's answer so far, or "unsupported" where there is no Notification API. */
  permission(): NotificationPermission | 'unsupported';
  /** Whether the page is hidden now. */
  hidden(): boolean;
  show(title: string, options: { readonly body: string; readonly tag: string }): void;
}

/** The longest message text a notification shows. */
const MAX_BODY = 140;

function browserEnvironment(): NotificationEnvironment {
  return {
    permission: () => ('Notification' in globalThis ? Notification.permission : 'unsupported'),
    hidden: () => document.visibilityState === 'hidden',
    show: (title, options) => {
      try {
        new Notification(title, options);
      } catch {
        // Some browsers allow notifications only from a service worker: then there are none.
      }
    },
  };
}

/** Asks the browser for permission (it asks the person once); the answer, or "unsupported". */
export async function requestNotificationPermission(): Promise<NotificationPermission | 'unsupported'> {
  if (!('Notification' in globalThis)) return 'unsupported';
  return Notification.requestPermission();
}

/** The part of the client this listens to. */
export interface MessageSource {
  on(event: 'message', listener: (message: ChatMessage) => void): () => void;
}

/** What decides, at each message, whether and how much to show. */
export interface NotifyOptions {
  /** The person turned "Show notifications" on. */
  readonly enabled: () => boolean;
  /** The app is locked: say only that something came. */
  readonly locked: () => boolean;
}

/**
 * Shows a notification for each incoming message while the page is hidden. Returns the function
 * that stops it.
 */
export function notifyIncomingMessages(
  client: MessageSource,
  options: NotifyOptions,
  environment: NotificationEnvironment = browserEnvironment(),
): () => void {
  return client.on('message', (message) => {
    if (message.outgoing || !options.enabled() || environment.permission() !== 'granted' || !environment.hidden()) return;
    if (options.locked()) {
      environment.show('Pairwise', { body: 'New message', tag: 'pairwise-new-message' });
      return;
    }
    const text = message.text.length > MAX_BODY ? `${message.text.slice(0, MAX_BODY - 1)}…` : message.text;
    environment.show(message.senderAccountId, { body: text, tag: `pairwise-chat-${message.chatId}` });
  });
}
