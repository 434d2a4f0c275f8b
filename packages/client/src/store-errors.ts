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
