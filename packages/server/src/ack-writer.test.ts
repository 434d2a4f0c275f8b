// Acknowledgements written in batches (SPEC INBOX-4).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ACK_WRITE_DELAY_MS, AckWriter } from './ack-writer.js';

afterEach(() => vi.useRealTimers());

describe('[INBOX-4] acknowledgements are written in batches', () => {
  it('writes the acknowledgements of a short while, from several devices, in one call', async () => {
    vi.useFakeTimers();
    const calls: { deviceId: string; seqs: readonly number[] }[][] = [];
    const writer = new AckWriter({ ackInboxMany: (acks) => (calls.push([...acks]), Promise.resolve(0)) }, { error: () => {} });
    writer.add('phone', [1, 2]);
    writer.add('laptop', [3]);
    writer.add('phone', [4]);
    writer.add('phone', []);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(ACK_WRITE_DELAY_MS);
    expect(calls).toEqual([
      [
        { deviceId: 'phone', seqs: [1, 2, 4] },
        { deviceId: 'laptop', seqs: [3] },
      ],
    ]);
  });

  it('flush writes what waits and resolves once it is written; a failed write is logged, not thrown', async () => {
    const errors: unknown[] = [];
    let fail = true;
    const written: number[] = [];
    const writer = new AckWriter(
      {
        ackInboxMany: (acks) => {
          if (fail) return Promise.reject(new Error('disk full'));
          written.push(...acks.flatMap((ack) => ack.seqs));
          return Promise.resolve(written.length);
        },
      },
      { error: (...args: unknown[]) => void errors.push(args) },
    );
    writer.add('phone', [1]);
    await writer.flush();
    expect(errors).toHaveLength(1);
    fail = false;
    writer.add('phone', [2]);
    await writer.flush();
    expect(written).toEqual([2]);
  });
});
