/**
 * Errors the SDK raises. Server refusals keep their wire code, so callers switch on `code`.
 * @module
 */
import { isWireErrorCode, type WireErrorCode } from '@pairwise/protocol/errors';
import type { AccountDevices } from '@pairwise/protocol/wire';

/** The server refused a request. */
export class RequestError extends Error {
  override readonly name = 'RequestError';
  readonly code: WireErrorCode | 'UNKNOWN';
  /**
   * With PIN_WRONG, PIN_RATE_LIMITED and PIN_LOCKED: when the next PIN try is allowed (0: now); with
   * RATE_LIMITED and SERVER_BUSY, when to try again.
   */
  readonly retryAt: number;
  /** With PIN_WRONG: wrong tries left before linking is locked for an hour. */
  readonly triesLeft: number;
  /** With INBOX_FULL: the devices whose inbox is full. */
  readonly deviceIds: readonly string[];
  constructor(
    code: string,
    message: string,
    /** With DEVICES_CHANGED: the accounts' current devices. */
    readonly accounts: readonly AccountDevices[] = [],
    details: { readonly retryAt?: number; readonly triesLeft?: number; readonly deviceIds?: readonly string[] } = {},
  ) {
    super(message);
    this.code = isWireErrorCode(code) ? code : 'UNKNOWN';
    this.retryAt = details.retryAt ?? 0;
    this.triesLeft = details.triesLeft ?? 0;
    this.deviceIds = details.deviceIds ?? [];
  }
}

/**
 * A message that will not be sent until `retry` (SPEC SEND-1): the server refused it, or it could
 * not be sent for another reason waiting would not cure. It names the message, so that the app
 * can show that very message failed and offer "Retry"; `code` is the server's (or 'UNKNOWN').
 */
export class SendFailedError extends Error {
  override readonly name = 'SendFailedError';
  constructor(
    readonly messageId: string,
    readonly chatId: string,
    readonly code: string,
    message: string,
    options?: { readonly cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * "Mark as verified" for a safety number that is no longer the contact's: their key changed
 * while the person was comparing (SPEC VERIFY-1). Nothing was decided; show the new number.
 */
export class SafetyNumberChangedError extends Error {
  override readonly name = 'SafetyNumberChangedError';
  constructor(readonly accountId: string) {
    super(`${accountId}'s safety number changed while you were comparing it; compare the new one`);
  }
}

/** The connection closed before the server answered; the request may or may not have happened. */
export class ConnectionClosedError extends Error {
  override readonly name = 'ConnectionClosedError';
}

/** The server did not answer in time. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** Why a scanned code cannot be used to link. */
export const LinkErrorReason = {
  /** Not a Pairwise link code at all. */
  NotALinkCode: 'not-a-link-code',
  /** A Pairwise code for another server: possibly a phishing page showing someone else's code. */
  WrongOrigin: 'wrong-origin',
  /** Only the primary device can link devices. */
  NotPrimary: 'not-primary',
} as const;
/** One of `LinkErrorReason`. */
export type LinkErrorReason = (typeof LinkErrorReason)[keyof typeof LinkErrorReason];

/** A link code was refused before anything was sent to the server. */
export class LinkError extends Error {
  override readonly name = 'LinkError';
  constructor(
    readonly reason: LinkErrorReason,
    message: string,
  ) {
    super(message);
  }
}

/** A peer's signed device list did not verify against the pinned account key. */
export class DeviceListRejectedError extends Error {
  override readonly name = 'DeviceListRejectedError';
}
