/**
 * A loading state: a spinner and words saying what is happening.
 * @module
 */

/** "Loading your chats…" with a spinner that screen readers skip (the words are read). */
export function Loading({ label }: { readonly label: string }) {
  return (
    <div class="loading" role="status">
      <span class="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}
