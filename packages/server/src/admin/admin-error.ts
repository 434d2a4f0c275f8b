/**
 * The two ways an admin command fails, as `pairwise-admin` reports them: the exit status tells a
 * script which, the message tells the operator what to do.
 * @module
 */

/** A command line that cannot run as given (wrong arguments, a setting that contradicts the command): exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A command that could not do its work, saying why and what to do: exit status 1. Nothing was changed unless it says so. */
export class AdminError extends Error {
  override readonly name = 'AdminError';
}
