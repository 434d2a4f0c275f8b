/**
 * Every size, count and time limit of the protocol, in one place. The server enforces them at
 * the edge; clients stay within them.
 * @module
 */
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;

/** Largest WebSocket frame accepted, either way. */
export const MAX_FRAME_BYTES = 1024 * 1024;
/** Largest encrypted content of one envelope. */
export const MAX_CONTENT_BYTES = 64 * 1024;
/** Most envelopes in one send: every device of two accounts, with room to spare. */
export const MAX_ENVELOPES = 40;
/** Most one-time prekeys in one upload, and kept per device. */
export const MAX_ONE_TIME_PREKEYS = 200;
/** Below this many one-time prekeys the server asks the device for more. */
export const PREKEYS_LOW_THRESHOLD = 20;
/**
 * Most one-time ML-KEM prekeys in one upload, and kept per device. Each is 1,184 bytes of key and a
 * 64-byte signature, so a full upload stays far below MAX_FRAME_BYTES.
 */
export const MAX_PQ_ONE_TIME_PREKEYS = 100;
/** Below this many one-time ML-KEM prekeys the server asks the device for more. */
export const PQ_PREKEYS_LOW_THRESHOLD = 10;
/**
 * A device replaces its signed X25519 prekey and its last-resort ML-KEM prekey this often (SPEC
 * PREKEYS-2), so that a leak of either exposes at most a week of first messages.
 */
export const SIGNED_PREKEY_ROTATION_MS = 7 * DAY;
/**
 * A replaced signed prekey's private half is kept this long for first messages already on their
 * way (an inbox row lives INBOX_TTL_MS), then deleted (SPEC PREKEYS-2).
 */
export const PREKEY_GRACE_MS = 30 * DAY;

/** A challenge nonce lives this long and is used once (SPEC AUTH-2). */
export const CHALLENGE_TTL_MS = 60 * SECOND;
/** Largest difference between a device's clock and the server's at authentication (SPEC AUTH-3). */
export const MAX_CLOCK_SKEW_MS = 60 * SECOND;

// A link token is single-use and lives at most 60 s (SPEC LINK-2): a QR code photographed
// over the user's shoulder must be worthless by the time it could be replayed.
export const LINK_TOKEN_TTL_MS = 60 * SECOND;
/** A companion asks for a new token this often, so the QR on screen is always fresh. */
export const LINK_TOKEN_ROTATE_MS = 25 * SECOND;
/** After this long on the link screen the companion stops and offers "Reload QR code". */
export const LINK_SESSION_MS = 5 * MINUTE;
/** Most link tokens one connection may ask for (5 minutes at one per 25 s, and some slack). */
export const MAX_LINK_TOKENS_PER_CONNECTION = 16;
/** Link token length: 128 bits (SPEC LINK-1). */
export const LINK_TOKEN_BYTES = 16;

/** Undelivered messages are kept this long, then the sender is told (SPEC INBOX-6). */
export const INBOX_TTL_MS = 30 * DAY;
/** Companions per account unless the server is configured otherwise (SPEC DEVICES-3). */
export const DEFAULT_MAX_COMPANIONS = 4;
/** Device lists are signed to stay valid this long; the primary re-signs before they expire. */
export const DEVICE_LIST_VALIDITY_MS = 365 * DAY;
/**
 * The primary re-signs its list (same devices, next version) once less than this is left of it,
 * a third of its lifetime, checked at every connection and daily (SPEC DEVLIST-4).
 */
export const DEVICE_LIST_RENEW_BEFORE_MS = DEVICE_LIST_VALIDITY_MS / 3;

/** Client message ids are 16 random bytes. */
export const CLIENT_MESSAGE_ID_BYTES = 16;
/** Requests per second a connection may make on average, and its burst. */
export const RATE_LIMIT_PER_SECOND = 200;
export const RATE_LIMIT_BURST = 400;

/**
 * Sockets one device may hold open at once (SPEC LIMIT-1). A client holds one; the rest is room for
 * a socket the network dropped without a word, until the keepalive notices.
 */
export const MAX_SOCKETS_PER_DEVICE = 4;
/**
 * Bytes the server lets wait in one socket's send buffer before it stops pushing inbox rows; it
 * resumes as the buffer drains (SPEC LIMIT-1). About 16 of the largest messages.
 */
export const PUSH_BUFFER_BYTES = 1024 * 1024;
/**
 * Bytes of replies that may wait unread in one socket's send buffer; past them the peer is not
 * reading and the socket is closed with CLOSE_NOT_READING (SPEC LIMIT-2).
 */
export const MAX_UNREAD_BYTES = 4 * 1024 * 1024;
/** Frames that are not Pairwise frames one connection may send before it is closed (SPEC LIMIT-2). */
export const MAX_BAD_FRAMES = 8;
/**
 * Frames a connection may send past its rate limit, net of the allowance it earns meanwhile,
 * before it is closed (SPEC LIMIT-2): a client that slows down when refused never comes near it.
 */
export const MAX_RATE_DEBT = RATE_LIMIT_BURST;
/** A connection must authenticate, or ask for a link code, within this (SPEC LIMIT-5). */
export const AUTH_DEADLINE_MS = 10 * SECOND;

/** Two-step PINs are this many digits (SPEC PIN-1). */
export const PIN_DIGITS = 6;
/** Wrong PINs allowed back to back before each further try waits longer (SPEC PIN-3). */
export const PIN_FREE_TRIES = 5;
/** At this many consecutive wrong PINs, link approvals are locked (SPEC PIN-3). */
export const PIN_LOCK_AFTER = 10;
/** How long approvals stay locked. */
export const PIN_LOCK_MS = 60 * MINUTE;
/** The phone asks for the PIN after these intervals, then every last one (SPEC PIN-4). */
export const PIN_REMINDER_DAYS: readonly number[] = [1, 3, 7, 14];

/** "Log out devices inactive for" choices, in days, and the default (SPEC EXPIRY-1). */
export const INACTIVE_DAYS_CHOICES: readonly number[] = [1, 7, 30, 90];
export const DEFAULT_INACTIVE_DAYS = 30;
/** "Log out companions when the phone is unused for" choices in days; 0 is never (SPEC EXPIRY-2). */
export const PHONE_UNUSED_DAYS_CHOICES: readonly number[] = [14, 30, 0];
export const DEFAULT_PHONE_UNUSED_DAYS = 14;
/** Devices warn that the phone is unused from this day on (SPEC EXPIRY-3). */
export const PHONE_UNUSED_WARNING_DAYS = 10;
/** A temporary session's device is removed once its socket has been gone this long (SPEC TEMP-1). */
export const TEMPORARY_SESSION_GRACE_MS = 60 * SECOND;
/** Security log entries kept per account, and for how long (SPEC SECLOG-1). */
export const SECURITY_LOG_MAX_EVENTS = 500;
export const SECURITY_LOG_TTL_MS = 180 * DAY;
/**
 * Changes of settings kept in the security log (SPEC SECLOG-3): the oldest go first, so that
 * however often settings flip, they fill at most this many of the entries a phone is shown.
 */
export const SECURITY_LOG_MAX_SETTING_EVENTS = 50;
/** A day, for the policies above. */
export const DAY_MS = DAY;
