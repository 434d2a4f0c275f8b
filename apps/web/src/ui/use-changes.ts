/**
 * Re-renders a component whenever a store it reads says it changed.
 * @module
 */
import { useEffect, useReducer } from 'preact/hooks';

/** Subscribes for the component's lifetime; the component reads the store's getters when it renders. */
export function useChanges(subscribe: (listener: () => void) => () => void): void {
  const [, bump] = useReducer((count: number) => count + 1, 0);
  useEffect(() => subscribe(() => bump(undefined)), [subscribe]);
}
