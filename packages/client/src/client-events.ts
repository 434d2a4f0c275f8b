/**
 * The events a client emits, with their payloads. Message text appears only in `message`.
 * @module
 */

/** A text message, received or sent from one of our devices. */
export interface ChatMessage {
  /** The other account of the conversation. */
  readonly chatId: string;
  /** Hex of the client message id; the same on every device. */
  readonly messageId: string;
  readonly senderAccountId: string;
  readonly senderDeviceId: string;
  readonly text: string;
  readonly sentAt: number;
  /** Sent by this account (on this or another of its devices). */
  readonly outgoing: boolean;
}

export interface ClientEventMap extends Record<string, unknown> {
  message: ChatMessage;
  receipt: {
    readonly chatId: string;
    readonly type: 'delivered' | 'read';
    readonly messageIds: readonly string[];
    readonly fromAccountId: string;
    readonly fromDeviceId: string;
  };
  sent: { readonly messageId: string; readonly chatId: string; readonly serverTime: number };
  'message-expired': { readonly messageId: string; readonly recipientAccountId: string; readonly recipientDeviceId: string };
  'decrypt-failed': { readonly senderAccountId: string; readonly senderDeviceId: string };
  /** An account's devices changed (ours included). */
  'devices-changed': { readonly accountId: string; readonly added: readonly string[]; readonly removed: readonly string[] };
  /** A contact's account key changed: the safety number changed; show a warning in the chat. */
  'identity-changed': { readonly accountId: string };
  /** This device was logged out (by itself, by the primary, or by expiry) and has wiped itself. */
  'logged-out': { readonly reason: string };
  connection: { readonly state: 'connecting' | 'online' | 'offline' | 'closed' };
  /**
   * The server refused this device's authentication for a reason the user can fix: CLOCK_SKEW
   * (retried), UPDATE_REQUIRED or AUTH_FAILED (the client stops; the device's data is kept).
   */
  'auth-error': { readonly code: string; readonly message: string };
}
