/**
 * The protocol version this code speaks. A server states its own and the oldest it accepts in
 * every Challenge; a client below that minimum is refused with UPDATE_REQUIRED (SPEC VERSION-1).
 * Bump it for any change to the wire schema's meaning, not for additive fields.
 */
export const PROTOCOL_VERSION = 1;

/** The oldest protocol version this code can talk to. */
export const MIN_PROTOCOL_VERSION = 1;
