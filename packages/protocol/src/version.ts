/**
 * The protocol version this code speaks. A server states its own and the oldest it accepts in
 * every Challenge; a client below that minimum is refused with UPDATE_REQUIRED (SPEC VERSION-1).
 * Bump it for any change to the wire schema's meaning, not for additive fields.
 */
export const PROTOCOL_VERSION = 2;

/**
 * The oldest protocol version this code can talk to. Version 2 binds accounts and devices into
 * every session and requires device attestations (ADR 0012); a version 1 app would neither
 * attest nor name itself in its messages, so it is told to update.
 */
export const MIN_PROTOCOL_VERSION = 2;
