/**
 * Named errors of the cryptographic core.
 *
 * Misuse by the caller (a wrong type, a wrong length of something the caller made) throws a
 * `TypeError` or `RangeError` naming the argument. Data from peers never throws at the public
 * verification boundary: verifying returns `false`/`null`. Inside, the primitives throw the
 * errors below and the protocol layer turns them into refusals.
 * @module
 */

/** A peer supplied a key that cannot be used (wrong length, low-order point, invalid encoding). */
export class InvalidPeerKeyError extends Error {
  override readonly name = 'InvalidPeerKeyError';
}

/** Bytes from a peer did not parse as the structure they claim to be. */
export class MalformedInputError extends Error {
  override readonly name = 'MalformedInputError';
}

/** Throws a `TypeError` unless `value` is a `Uint8Array`; the message names the argument. */
export function assertBytes(value: unknown, name: string, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array`);
  }
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`${name} must be ${length} bytes, got ${value.length}`);
  }
}

/** Marks the end of an exhaustive switch over a closed set; fails loudly if reached. */
export function assertNever(value: never): never {
  throw new TypeError(`unexpected value: ${String(value)}`);
}
