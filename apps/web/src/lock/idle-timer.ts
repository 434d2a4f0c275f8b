/**
 * Calls back after a stretch of inactivity: no pointer, keyboard, wheel or touch input on the page,
 * and the page not coming back into view, for the given time (the app lock's "Lock after").
 *
 * Activity only records a time; one timer checks it, so a moving mouse costs nothing. A hidden page
 * may have its timers slowed down by the browser, so coming back into view checks the time first:
 * a page hidden for longer than the limit locks the moment it is shown again, before anyone sees it.
 * @module
 */

/** The events that count as someone using the page. */
export const ACTIVITY_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart'] as const;

/** What the timer watches; the page's document by default, fakes in tests. */
export interface IdleEnvironment {
  readonly target: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;
  /** Whether the page is hidden now (document.visibilityState). */
  readonly hidden: () => boolean;
  readonly now: () => number;
}

function documentEnvironment(): IdleEnvironment {
  return { target: document, hidden: () => document.visibilityState === 'hidden', now: () => Date.now() };
}

/**
 * The function that stops watching, and `checkNow`: fires `onIdle` at once if the limit has
 * passed (a hidden page's timer may be late by a minute) and says whether it did. Work that must
 * not happen once the limit is past, such as showing a message's text in a notification, calls
 * it first.
 */
export type IdleWatch = (() => void) & { readonly checkNow: () => boolean };

/**
 * Calls `onIdle` once, after `limitMs` without activity. Returns the function that stops watching.
 */
export function watchIdle(limitMs: number, onIdle: () => void, environment: IdleEnvironment = documentEnvironment()): IdleWatch {
  if (!Number.isFinite(limitMs) || limitMs <= 0) throw new RangeError('limitMs must be a positive number');
  const { target, hidden, now } = environment;
  let last = now();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;

  const fire = () => {
    stop();
    onIdle();
  };
  const check = () => {
    timer = null;
    if (stopped) return;
    const left = last + limitMs - now();
    if (left <= 0) fire();
    else timer = setTimeout(check, left);
  };
  const activity = () => {
    last = now();
  };
  const visibility = () => {
    if (hidden()) return;
    // Back in view: first see whether the limit passed while hidden, then count it as activity.
    if (now() - last >= limitMs) fire();
    else activity();
  };
  const stop = () => {
    stopped = true;
    if (timer !== null) clearTimeout(timer);
    for (const event of ACTIVITY_EVENTS) target.removeEventListener(event, activity);
    target.removeEventListener('visibilitychange', visibility);
  };

  for (const event of ACTIVITY_EVENTS) target.addEventListener(event, activity, { passive: true, capture: true });
  target.addEventListener('visibilitychange', visibility);
  timer = setTimeout(check, limitMs);
  const checkNow = () => {
    if (stopped || now() - last < limitMs) return false;
    fire();
    return true;
  };
  return Object.assign(() => stop(), { checkNow });
}
