import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchIdle, type IdleEnvironment } from './idle-timer.js';

function fakePage() {
  const target = new EventTarget();
  let hidden = false;
  const environment: IdleEnvironment = { target, hidden: () => hidden, now: () => Date.now() };
  return {
    environment,
    act: (event = 'keydown') => target.dispatchEvent(new Event(event)),
    setHidden: (value: boolean) => {
      hidden = value;
      target.dispatchEvent(new Event('visibilitychange'));
    },
  };
}

const MINUTE = 60_000;

describe('[LOCK-7] idle timer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('fires once after the limit without activity', () => {
    const page = fakePage();
    const onIdle = vi.fn();
    watchIdle(MINUTE, onIdle, page.environment);
    vi.advanceTimersByTime(MINUTE - 1);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onIdle).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10 * MINUTE);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('pointer and keyboard activity push the limit back', () => {
    const page = fakePage();
    const onIdle = vi.fn();
    watchIdle(MINUTE, onIdle, page.environment);
    for (const event of ['pointermove', 'keydown', 'pointerdown', 'wheel', 'touchstart']) {
      vi.advanceTimersByTime(50_000);
      page.act(event);
    }
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(MINUTE);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('a page shown again after the limit fires at once; shown earlier, it counts as activity', () => {
    const page = fakePage();
    const onIdle = vi.fn();
    watchIdle(MINUTE, onIdle, page.environment);
    page.setHidden(true);
    vi.advanceTimersByTime(30_000);
    page.setHidden(false);
    vi.advanceTimersByTime(45_000);
    expect(onIdle).not.toHaveBeenCalled();
    page.setHidden(true);
    // A hidden page's timers may not run on time: moving the clock alone does not fire them here.
    vi.setSystemTime(Date.now() + 5 * MINUTE);
    page.setHidden(false);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('stops watching when asked', () => {
    const page = fakePage();
    const onIdle = vi.fn();
    const stop = watchIdle(MINUTE, onIdle, page.environment);
    stop();
    vi.advanceTimersByTime(5 * MINUTE);
    expect(onIdle).not.toHaveBeenCalled();
  });

  it('checkNow fires at once when the limit passed while the timer was held back, and not before', () => {
    const page = fakePage();
    const onIdle = vi.fn();
    const watch = watchIdle(MINUTE, onIdle, page.environment);
    page.setHidden(true);
    vi.setSystemTime(Date.now() + 30_000);
    expect(watch.checkNow()).toBe(false);
    expect(onIdle).not.toHaveBeenCalled();
    // A hidden page's timer may be a minute late: the time has passed, the timer has not run.
    vi.setSystemTime(Date.now() + 31_000);
    expect(watch.checkNow()).toBe(true);
    expect(onIdle).toHaveBeenCalledTimes(1);
    expect(watch.checkNow()).toBe(false);
    vi.advanceTimersByTime(5 * MINUTE);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });
});
