import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { KEEPALIVE_SLICE, Keepalive } from './keepalive.js';

/** A socket that counts its pings and can be told to answer them, or to close. */
class FakeSocket extends EventEmitter {
  pings = 0;
  terminated = false;
  ping(): void {
    this.pings++;
  }
  terminate(): void {
    this.terminated = true;
  }
  answer(): void {
    this.emit('pong');
  }
}

describe('keepalive', () => {
  it('pings every socket once a round, terminates one that did not answer the round before, and forgets a closed one', async () => {
    const keepalive = new Keepalive<FakeSocket>();
    const [answering, silent, closed] = [new FakeSocket(), new FakeSocket(), new FakeSocket()];
    for (const socket of [answering, silent, closed]) keepalive.track(socket);
    await keepalive.round();
    expect([answering.pings, silent.pings, closed.pings]).toEqual([1, 1, 1]);
    answering.answer();
    closed.emit('close');
    await keepalive.round();
    expect(answering.pings).toBe(2);
    expect(answering.terminated).toBe(false);
    expect(silent.terminated).toBe(true);
    expect(closed.pings).toBe(1);
    expect(closed.terminated).toBe(false);
    // A terminated socket is not pinged or terminated again.
    await keepalive.round();
    expect(silent.pings).toBe(1);
  });

  it('walks many sockets a slice at a time, giving the event loop a turn between slices', async () => {
    const keepalive = new Keepalive<FakeSocket>();
    const sockets = Array.from({ length: KEEPALIVE_SLICE * 2 + 7 }, () => new FakeSocket());
    for (const socket of sockets) keepalive.track(socket);
    const round = keepalive.round();
    // Before the first turn of the event loop only the first slice has been pinged.
    expect(sockets.filter((socket) => socket.pings === 1)).toHaveLength(KEEPALIVE_SLICE);
    // A round due while one is walking passes.
    await keepalive.round();
    await round;
    expect(sockets.every((socket) => socket.pings === 1)).toBe(true);
  });
});
