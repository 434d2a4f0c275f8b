/**
 * Errors in words for the screens. Server refusals carry the message of the protocol's error
 * table, which is already written for people.
 * @module
 */
import { ConnectionClosedError, RequestError, TimeoutError } from '@pairwise/client/errors';

/** A sentence saying what went wrong. */
export function describeError(error: unknown): string {
  if (error instanceof RequestError) {
    if (error.code === 'UNKNOWN_ACCOUNT') return 'There is no account with that username on this server.';
    if (error.code === 'LINK_TOKEN_INVALID') return 'This code expired or was already used. Scan the new code on the computer’s screen.';
    return `${error.message}.`;
  }
  if (error instanceof ConnectionClosedError || error instanceof TimeoutError) {
    return 'The server could not be reached. Check your connection and try again.';
  }
  if (error instanceof Error && error.message) return error.message;
  return 'Something went wrong. Try again.';
}
