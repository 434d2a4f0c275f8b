/**
 * The one table of wire errors: stable code, message, HTTP status and, when the error ends the
 * connection, the WebSocket close code. Servers send the code; clients switch on it.
 *
 * Close codes 4000-4999 are private to the application (RFC 6455 section 7.4.2); 1008/1009/1011
 * are the standard "policy violation", "message too big" and "internal error".
 * @module
 */

/** One row of the table. */
export interface WireErrorSpec {
  readonly message: string;
  readonly httpStatus: number;
  /** The socket is closed with this code after the error is sent; `null` keeps it open. */
  readonly closeCode: number | null;
}

/** Close code: the device no longer exists; the client wipes itself (SPEC REVOKE-2). */
export const CLOSE_LOGGED_OUT = 4003;
/** Close code: this client is older than the server accepts. */
export const CLOSE_UPDATE_REQUIRED = 4002;
/** Close code: authentication failed. */
export const CLOSE_AUTH_FAILED = 4001;
/** Close code: the connection did not authenticate (or start linking) in time (SPEC LIMIT-5). */
export const CLOSE_AUTH_TIMEOUT = 4004;
/** Close code: the device already has the most sockets a device may hold open (SPEC LIMIT-1). */
export const CLOSE_TOO_MANY_CONNECTIONS = 4005;
/** Close code: too many frames that were not Pairwise frames (SPEC LIMIT-2). */
export const CLOSE_BAD_FRAMES = 4006;
/** Close code: the connection went on sending far past its rate limit (SPEC LIMIT-2). */
export const CLOSE_RATE_EXCEEDED = 4007;
/** Close code: the peer stopped reading while the server's replies piled up (SPEC LIMIT-2). */
export const CLOSE_NOT_READING = 4008;

export const WireError = {
  BAD_FRAME: { message: 'The frame is not a valid Pairwise frame', httpStatus: 400, closeCode: null },
  BAD_REQUEST: { message: 'The request has a missing or invalid field', httpStatus: 400, closeCode: null },
  FRAME_TOO_LARGE: { message: 'The frame is larger than the server accepts', httpStatus: 413, closeCode: 1009 },
  RATE_LIMITED: { message: 'Too many requests; slow down', httpStatus: 429, closeCode: null },
  NOT_AUTHENTICATED: { message: 'Authenticate this connection first', httpStatus: 401, closeCode: null },
  ALREADY_AUTHENTICATED: { message: 'This connection is already authenticated', httpStatus: 409, closeCode: null },
  AUTH_FAILED: { message: 'Device authentication failed', httpStatus: 401, closeCode: CLOSE_AUTH_FAILED },
  CHALLENGE_EXPIRED: { message: 'The challenge expired or was used; request a new one', httpStatus: 401, closeCode: null },
  CLOCK_SKEW: { message: "The device's clock differs from the server's by more than 60 seconds", httpStatus: 401, closeCode: null },
  LOGGED_OUT: { message: 'This device was logged out', httpStatus: 401, closeCode: CLOSE_LOGGED_OUT },
  UPDATE_REQUIRED: { message: 'This app is too old for the server; update it', httpStatus: 426, closeCode: CLOSE_UPDATE_REQUIRED },
  FORBIDDEN: { message: 'Only the primary device can do this', httpStatus: 403, closeCode: null },
  REGISTRATION_CLOSED: { message: 'This server does not accept new accounts without an invite', httpStatus: 403, closeCode: null },
  INVITE_INVALID: { message: 'The invite code is not valid', httpStatus: 403, closeCode: null },
  USERNAME_INVALID: {
    message: 'Usernames are 3-32 characters: lower-case letters, digits, "." and "_", starting with a letter',
    httpStatus: 400,
    closeCode: null,
  },
  USERNAME_TAKEN: { message: 'That username is taken', httpStatus: 409, closeCode: null },
  DEVICE_ID_TAKEN: { message: 'That device id is already in use', httpStatus: 409, closeCode: null },
  INVALID_DEVICE_LIST: { message: 'The device list does not verify or does not match the devices', httpStatus: 400, closeCode: null },
  STALE_DEVICE_LIST: { message: 'The device list is not the next version', httpStatus: 409, closeCode: null },
  INVALID_PREKEYS: { message: 'The prekeys do not verify against the device key', httpStatus: 400, closeCode: null },
  INVALID_ATTESTATION: { message: "The device's attestation does not verify", httpStatus: 400, closeCode: null },
  LINK_TOKEN_INVALID: { message: 'The link code is unknown, used or expired', httpStatus: 410, closeCode: null },
  TOO_MANY_LINK_TOKENS: { message: 'Too many link codes; reload to start again', httpStatus: 429, closeCode: null },
  TOO_MANY_COMPANIONS: { message: 'This account already has the most linked devices allowed', httpStatus: 409, closeCode: null },
  UNKNOWN_ACCOUNT: { message: 'No such account', httpStatus: 404, closeCode: null },
  UNKNOWN_DEVICE: { message: 'No such device in this account', httpStatus: 404, closeCode: null },
  PIN_REQUIRED: { message: 'Enter your two-step PIN to link a device', httpStatus: 403, closeCode: null },
  PIN_WRONG: { message: 'The two-step PIN is not right', httpStatus: 403, closeCode: null },
  PIN_RATE_LIMITED: { message: 'Too many wrong PINs; wait before trying again', httpStatus: 429, closeCode: null },
  PIN_LOCKED: { message: 'Too many wrong PINs: linking is locked for an hour', httpStatus: 423, closeCode: null },
  PIN_NOT_SET: { message: 'Two-step verification is off', httpStatus: 409, closeCode: null },
  DEVICES_CHANGED: { message: "The message does not cover exactly the accounts' current devices", httpStatus: 409, closeCode: null },
  SENDER_NOT_CURRENT: {
    message: 'This device cannot send yet: it has not attested, or its account list expired and only the phone can send',
    httpStatus: 409,
    closeCode: null,
  },
  RECIPIENT_UNAVAILABLE: { message: 'No device of the recipient can receive messages yet', httpStatus: 409, closeCode: null },
  INBOX_FULL: { message: "The recipient's device has too many undelivered messages", httpStatus: 429, closeCode: null },
  TOO_MANY_CONNECTIONS: { message: 'This device has too many connections open', httpStatus: 429, closeCode: CLOSE_TOO_MANY_CONNECTIONS },
  SERVER_BUSY: { message: 'The server is busy; try again shortly', httpStatus: 503, closeCode: null },
  FORBIDDEN_ORIGIN: { message: "WebSocket connections are accepted from this server's own web app only", httpStatus: 403, closeCode: null },
  INTERNAL: { message: 'Something went wrong on the server', httpStatus: 500, closeCode: null },
} as const satisfies Record<string, WireErrorSpec>;

/** One of the wire error codes. */
export type WireErrorCode = keyof typeof WireError;

/** Whether `code` is one of ours (a peer may send anything). */
export function isWireErrorCode(code: string): code is WireErrorCode {
  return Object.hasOwn(WireError, code);
}

/**
 * A failure to report on the wire. Thrown inside the server's handlers and caught at the edge,
 * where it becomes an Error frame; the SDK raises it for an Error frame it receives.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  /**
   * With PIN_WRONG, PIN_RATE_LIMITED and PIN_LOCKED: when the next PIN try is allowed; with
   * RATE_LIMITED and SERVER_BUSY, when to try again.
   */
  readonly retryAt: number;
  /** With PIN_WRONG: wrong tries left before linking is locked. */
  readonly triesLeft: number;
  constructor(
    readonly code: WireErrorCode,
    detail?: string,
    options?: { cause?: unknown; retryAt?: number; triesLeft?: number },
  ) {
    super(detail ? `${WireError[code].message}: ${detail}` : WireError[code].message, options);
    this.retryAt = options?.retryAt ?? 0;
    this.triesLeft = options?.triesLeft ?? 0;
  }

  /** The table row for this error. */
  get spec(): WireErrorSpec {
    return WireError[this.code];
  }
}
