// Batched acknowledgements (SPEC INBOX-4, LIMIT-2).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ACK_DELAY_MS, AckBatcher, MAX_ACKS_PER_FRAME } from './ack-batcher.js';

afterEach(() => vi.useRealTimers());

describe('[INBOX-4] acknowledgements go out together', () => {
  it('sends the seqs of a short while in one frame', () => {
    vi.useFakeTimers();
    const frames: number[][] = [];
    const acks = new AckBatcher((seqs) => frames.push(seqs));
    for (let seq = 1; seq <= 5; seq++) acks.add(seq);
    expect(frames).toEqual([]);
    vi.advanceTimersByTime(ACK_DELAY_MS);
    expect(frames).toEqual([[1, 2, 3, 4, 5]]);
    acks.add(6);
    vi.advanceTimersByTime(ACK_DELAY_MS);
    expect(frames).toEqual([[1, 2, 3, 4, 5], [6]]);
  });

  it('never puts more than the server takes in one frame: 2,500 rows are three frames', () => {
    vi.useFakeTimers();
    const frames: number[][] = [];
    const acks = new AckBatcher((seqs) => frames.push(seqs));
    for (let seq = 1; seq <= 2500; seq++) acks.add(seq);
    vi.advanceTimersByTime(ACK_DELAY_MS);
    expect(frames.map((frame) => frame.length)).toEqual([MAX_ACKS_PER_FRAME, MAX_ACKS_PER_FRAME, 500]);
    expect(frames.flat()).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
  });
});
