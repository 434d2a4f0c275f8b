/**
 * Routes as paths (/chats, /chats/bob, /devices), so that reload and the back button work; the
 * server answers every such path with the app.
 * @module
 */
import type { ComponentChildren } from 'preact';
import { useChanges } from './use-changes.js';

const listeners = new Set<() => void>();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  const onPop = () => listener();
  addEventListener('popstate', onPop);
  return () => {
    listeners.delete(listener);
    removeEventListener('popstate', onPop);
  };
}

/** Goes to `path` (a new history entry, or in place with `replace`). */
export function navigate(path: string, options: { readonly replace?: boolean } = {}): void {
  if (path === location.pathname) return;
  if (options.replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  for (const listener of [...listeners]) listener();
}

/** The current path; the component re-renders when it changes. */
export function useRoute(): string {
  useChanges(subscribe);
  return location.pathname;
}

/** A link that changes route without reloading the page (and behaves as a link otherwise). */
export function Link({
  to,
  children,
  class: className,
  current,
  label,
}: {
  readonly to: string;
  readonly children: ComponentChildren;
  readonly class?: string;
  /** Marks the link as the current page (aria-current). */
  readonly current?: boolean;
  readonly label?: string;
}) {
  return (
    <a
      href={to}
      class={className}
      aria-current={current ? 'page' : undefined}
      aria-label={label}
      onClick={(event) => {
        // A click with a modifier opens a new tab, as for any link.
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

/** The path of a chat. */
export function chatPath(chatId: string): string {
  return `/chats/${encodeURIComponent(chatId)}`;
}

/** The chat a path names, or null. */
export function chatOfPath(path: string): string | null {
  const match = /^\/chats\/([^/]+)$/.exec(path);
  if (!match?.[1]) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return null;
  }
}
