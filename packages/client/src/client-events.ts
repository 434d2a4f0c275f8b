/**
 * The events a client emits, with their payloads. Message text appears only in `message`.
 * @module
 */

import type { DeviceSummary } from './pairwise-client.js';
import type { SecurityState } from './security.js';

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
  /**
   * The account's security state changed or was reported (at each connection). `alert` is set
   * when it needs the user's attention: "pin-locked" (10 wrong PINs locked linking for an hour).
   */
  security: { readonly security: SecurityState; readonly alert: string | null };
  /** A companion was linked to this account since this device last looked (SPEC ALERT-1). */
  'device-linked': DeviceSummary;
  /** This device was logged out (by itself, by the primary, or by expiry) and has wiped itself. */
  'logged-out': { readonly reason: string };
  connection: { readonly state: 'connecting' | 'online' | 'offline' | 'closed' };
  /**
   * The server refused this device's authentication for a reason the user can fix: CLOCK_SKEW
   * (retried), UPDATE_REQUIRED or AUTH_FAILED (the client stops; the device's data is kept).
   */
  'auth-error': { readonly code: string; readonly message: string };
}
