// The bound on expensive work (SPEC LIMIT-7): how many run, wait, and per key.
import { describe, expect, it } from 'vitest';
import { WorkQueue } from './work-queue.js';

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('[LIMIT-7] WorkQueue', () => {
  it('runs at most `concurrency` at once, queues up to `queue`, and refuses the rest with SERVER_BUSY and a time', async () => {
    const queue = new WorkQueue({ concurrency: 2, queue: 1, perKey: 10, retryAfterMs: 1000, now: () => 5000 });
    let running = 0;
    let most = 0;
    const release = gate();
    const work = async () => {
      running++;
      most = Math.max(most, running);
      await release.opened;
      running--;
      return 'done';
    };
    const admitted = [queue.run('a', work), queue.run('b', work), queue.run('c', work)];
    await expect(queue.run('d', work)).rejects.toMatchObject({ code: 'SERVER_BUSY', retryAt: 6000 });
    release.open();
    expect(await Promise.all(admitted)).toEqual(['done', 'done', 'done']);
    expect(most).toBe(2);
    // Slots come back, failures included.
    await expect(queue.run('e', () => Promise.reject(new Error('broken')))).rejects.toThrow('broken');
    expect(await queue.run('f', () => Promise.resolve(1))).toBe(1);
  });

  it('lets one key hold at most `perKey` running or waiting', async () => {
    const queue = new WorkQueue({ concurrency: 4, queue: 10, perKey: 1, retryAfterMs: 500, now: () => 0 });
    const release = gate();
    const first = queue.run('alice', () => release.opened);
    await expect(queue.run('alice', () => Promise.resolve())).rejects.toMatchObject({ code: 'SERVER_BUSY' });
    await queue.run('bob', () => Promise.resolve());
    release.open();
    await first;
    await queue.run('alice', () => Promise.resolve());
  });
});
