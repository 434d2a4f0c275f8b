/**
 * Checks every store applies to its arguments before touching data, so that all backends accept
 * and refuse exactly the same things: code that works on the memory store in a test must not
 * fail later on the file store or IndexedDB.
 * @module
 */
import { STORE_TABLES, type StoreTable } from './client-store.js';
import { isCryptoKey } from './platform.js';

const TABLES: ReadonlySet<string> = new Set(STORE_TABLES);

/** Throws a `TypeError` unless `table` is one of `STORE_TABLES`. */
export function assertTable(table: unknown): asserts table is StoreTable {
  if (typeof table !== 'string' || !TABLES.has(table)) {
    throw new TypeError(`table must be one of ${STORE_TABLES.join(', ')}; got ${describe(table)}`);
  }
}

/** Throws a `TypeError` unless `key` is a string (any string, the empty one and `__proto__` too). */
export function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new TypeError(`key must be a string; got ${describe(key)}`);
}

/** Throws a `TypeError` unless `prefix` is a string or omitted. */
export function assertPrefix(prefix: unknown): asserts prefix is string | undefined {
  if (prefix !== undefined && typeof prefix !== 'string') {
    throw new TypeError(`prefix must be a string when given; got ${describe(prefix)}`);
  }
}

/**
 * Throws a `TypeError` naming the table, key and path unless `value` is made only of the kinds
 * `ClientStore` documents: plain objects (prototype `Object.prototype` or `null`), dense arrays,
 * strings, finite numbers, booleans, null, `Uint8Array` and `CryptoKey`, without cycles.
 *
 * Refused on purpose although structured clone would keep them: `undefined` (a stored
 * `undefined` could not be told from a missing key), `NaN` and infinities, `Map`, `Set`, `Date`,
 * other typed arrays and class instances. JSON cannot carry them without a tag each, and a value
 * that only some backends keep is a bug that shows up late, on another platform.
 */
export function assertStorableValue(table: StoreTable, key: string, value: unknown): void {
  const problem = findProblem(value, '', new Set());
  if (problem !== null) {
    throw new TypeError(
      `value for key ${JSON.stringify(key)} in table ${table} cannot be stored: ${problem}` +
        ' (allowed: plain objects, arrays, strings, finite numbers, booleans, null, Uint8Array, CryptoKey)',
    );
  }
}

function findProblem(value: unknown, path: string, ancestors: Set<object>): string | null {
  const at = path === '' ? 'the value' : `value${path}`;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return null;
    case 'number':
      return Number.isFinite(value) ? null : `${at} is ${String(value)}`;
    case 'undefined':
      return `${at} is undefined`;
    case 'bigint':
    case 'symbol':
    case 'function':
      return `${at} is a ${typeof value}`;
    case 'object':
      break;
  }
  if (value === null || value instanceof Uint8Array || isCryptoKey(value)) return null;
  if (ancestors.has(value)) return `${at} refers to itself (a cycle)`;
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index++) {
        if (!(index in value)) return `${at} is a sparse array (no element ${index})`;
        const problem = findProblem(value[index], `${path}[${index}]`, ancestors);
        if (problem !== null) return problem;
      }
      return null;
    }
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) return `${at} is a ${describe(value)}`;
    for (const [name, item] of Object.entries(value)) {
      const problem = findProblem(item, `${path}[${JSON.stringify(name)}]`, ancestors);
      if (problem !== null) return problem;
    }
    return null;
  } finally {
    ancestors.delete(value);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? name : 'object';
}
