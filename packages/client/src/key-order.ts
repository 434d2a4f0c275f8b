/**
 * The order of store keys. Every store lists keys in ascending UTF-16 code unit order, because
 * that is how IndexedDB compares string keys; JavaScript's `<` on strings compares the same way
 * (`localeCompare` would not).
 * @module
 */

/** Compares two keys by UTF-16 code units, for `Array.prototype.sort`. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The smallest string greater than every string that starts with `prefix`, or `null` when there
 * is none (the prefix is empty or all U+FFFF units). Keys starting with `prefix` are exactly those
 * in [`prefix`, result). Appending U+FFFF to the prefix instead would miss keys that continue with
 * U+FFFF itself.
 */
export function prefixUpperBound(prefix: string): string | null {
  let end = prefix.length;
  while (end > 0 && prefix.charCodeAt(end - 1) === 0xffff) end--;
  if (end === 0) return null;
  return prefix.slice(0, end - 1) + String.fromCharCode(prefix.charCodeAt(end - 1) + 1);
}
