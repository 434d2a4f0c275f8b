/**
 * Timers through `globalThis`: they exist in Node and every browser but not in lib es2022, which
 * this pure package compiles against.
 * @module
 */
type TimerHandle = { readonly __timer: unique symbol };

interface TimerGlobals {
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

const timers = globalThis as unknown as TimerGlobals;

/** Runs `callback` after `ms`; returns a function that cancels it. */
export function after(ms: number, callback: () => void): () => void {
  const handle = timers.setTimeout(callback, ms);
  // In Node, do not keep the process alive for an SDK timer alone.
  (handle as unknown as { unref?: () => void }).unref?.();
  return () => timers.clearTimeout(handle);
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => after(ms, resolve));
}
