/**
 * Named errors of the client stores.
 *
 * Misuse by the caller (an unknown table, a key that is not a string, a value no store can keep)
 * throws a `TypeError` naming the argument, as everywhere in Pairwise. The classes below are for
 * conditions a caller may want to recognise and report.
 * @module
 */

/** The store was closed or wiped; open a new one. */
export class StoreClosedError extends Error {
  override readonly name = 'StoreClosedError';
}

/**
 * The backing data could not be read as a store (a damaged or foreign file). Raised when the
 * store is opened, so that nothing is silently lost: the data is left where it is for a person
 * to inspect, and the store refuses to start rather than overwrite it.
 */
export class StoreCorruptError extends Error {
  override readonly name = 'StoreCorruptError';
}

/**
 * The message history is locked (a companion's app lock): its records are sealed and the key that
 * opens them is not in memory. Writing still works; reading waits for the passcode.
 * `unlocked` settles when the history is next unlocked, for work that can wait (the outbox).
 */
export class HistoryLockedError extends Error {
  override readonly name = 'HistoryLockedError';
  constructor(
    message: string,
    /** Resolves at the next unlock; never settles if the store is wiped first. */
    readonly unlocked: Promise<void>,
  ) {
    super(message);
  }
}
