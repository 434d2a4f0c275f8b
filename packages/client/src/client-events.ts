/**
 * The events a client emits, with their payloads. Message text appears only in `message`.
 * @module
 */

import type { VerificationState } from './contacts.js';
import type { StoredNotice } from './history.js';
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
  /**
   * The server refused a message, or it could not be sent for another reason waiting will not
   * cure. It stays unsent until `retry` (SPEC SEND-1).
   */
  'send-failed': { readonly messageId: string; readonly chatId: string; readonly code: string; readonly message: string; readonly at: number };
  'message-expired': { readonly messageId: string; readonly recipientAccountId: string; readonly recipientDeviceId: string };
  /**
   * A message could not be decrypted or was refused (SPEC RECEIVE-1). One notice stands for a
   * burst: `notice.count` says how many so far.
   */
  'decrypt-failed': {
    readonly chatId: string;
    readonly senderAccountId: string;
    readonly senderDeviceId: string;
    readonly count: number;
    readonly notice: StoredNotice;
  };
  /** An account's devices changed (ours included). */
  'devices-changed': { readonly accountId: string; readonly added: readonly string[]; readonly removed: readonly string[] };
  /** A contact's account key changed: the safety number changed; `notice` is in the chat's history (SPEC VERIFY-2). */
  'identity-changed': { readonly accountId: string; readonly notice: StoredNotice };
  /** What this person decided about a contact's safety number changed, here or on another of their devices. */
  'verification-changed': { readonly accountId: string; readonly state: VerificationState };
  /**
   * The account's security state changed or was reported (at each connection). `alert` is set
   * when it needs the user's attention: "pin-locked" (10 wrong PINs locked linking for an hour).
   */
  security: { readonly security: SecurityState; readonly alert: string | null };
  /** A companion was linked to this account since this device last looked (SPEC ALERT-1). */
  'device-linked': DeviceSummary;
  /** This device was logged out (by itself, by the primary, or by expiry) and has wiped itself. */
  'logged-out': { readonly reason: string };
  /**
   * Another client took this device over ("Use here" in another tab, SPEC DEVICE-1): this client
   * has stopped and let the device go; its data stays.
   */
  'taken-over': Record<string, never>;
  connection: { readonly state: 'connecting' | 'online' | 'offline' | 'closed' };
  /**
   * The server refused this device's authentication for a reason the user can fix: CLOCK_SKEW
   * (retried), UPDATE_REQUIRED or AUTH_FAILED (the client stops; the device's data is kept).
   */
  'auth-error': { readonly code: string; readonly message: string };
}
