import { describe, expect, it } from 'vitest';
import { KeyedMutex } from './keyed-mutex.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('[PIN-3] [RECEIVE-2] one task at a time per key', () => {
  it('runs tasks of one key one at a time, in order, and forgets the key after', async () => {
    const mutex = new KeyedMutex();
    const events: string[] = [];
    const task = (name: string) => async () => {
      events.push(`${name} start`);
      await tick();
      events.push(`${name} end`);
      return name;
    };
    const results = await Promise.all([mutex.run('a', task('one')), mutex.run('a', task('two')), mutex.run('a', task('three'))]);
    expect(results).toEqual(['one', 'two', 'three']);
    expect(events).toEqual(['one start', 'one end', 'two start', 'two end', 'three start', 'three end']);
    expect(mutex.size).toBe(0);
  });

  it('a failing task does not block the next, and other keys run side by side', async () => {
    const mutex = new KeyedMutex();
    const events: string[] = [];
    const failing = mutex.run('a', async () => {
      await tick();
      throw new Error('wrong');
    });
    const next = mutex.run('a', () => Promise.resolve(events.push('a after failure')));
    const other = mutex.run('b', () => Promise.resolve(events.push('b')));
    await expect(failing).rejects.toThrow('wrong');
    await Promise.all([next, other]);
    expect(events).toEqual(['b', 'a after failure']);
    expect(mutex.size).toBe(0);
  });
});
