/**
 * One SQLite value as the PostgreSQL column it moves into expects it. SQLite keeps whatever it is
 * given whatever the declared type, so each value is checked against the target column rather
 * than trusted: a text in a bytea column, a fraction in a bigint one, is refused by name of
 * column and row, never by its content.
 * @module
 */
import { AdminError } from './admin-error.js';

/** A value for a `pg` parameter: bytes as a Buffer, integers as decimal strings (exact past 2^53). */
export type PostgresParameter = Buffer | string | null;

/** The PostgreSQL column types the schema uses (information_schema's `data_type`). */
const INTEGER_TYPES = new Set(['bigint', 'integer', 'smallint']);
const TEXT_TYPES = new Set(['text', 'character varying']);

/**
 * Converts `value`, read by better-sqlite3 with safe integers (so integers arrive as BigInt and
 * none loses precision), for a column of `dataType`. `where` names it: "inbox.content, row 12".
 */
export function toPostgresValue(value: unknown, dataType: string, where: string): PostgresParameter {
  if (value === null) return null;
  if (dataType === 'bytea') {
    if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    throw mismatch(value, 'bytes', where);
  }
  if (INTEGER_TYPES.has(dataType)) {
    if (typeof value === 'bigint') return value.toString();
    throw mismatch(value, 'an integer', where);
  }
  if (TEXT_TYPES.has(dataType)) {
    if (typeof value === 'string') return value;
    throw mismatch(value, 'text', where);
  }
  if (dataType === 'boolean') {
    // Flags are 0/1 integers in both databases today (database.ts); a boolean column would take them so.
    if (value === 0n || value === 1n) return value === 1n ? 'true' : 'false';
    throw mismatch(value, 'a 0 or 1 flag', where);
  }
  throw new AdminError(`${where}: PostgreSQL column type ${dataType} is not one this command knows how to fill`);
}

function mismatch(value: unknown, expected: string, where: string): AdminError {
  const found = value instanceof Uint8Array ? 'bytes' : typeof value === 'bigint' ? 'an integer' : typeof value === 'number' ? 'a real number' : typeof value === 'string' ? 'text' : typeof value;
  return new AdminError(`${where} holds ${found} where PostgreSQL expects ${expected}; the SQLite database was changed by something other than Pairwise`);
}
