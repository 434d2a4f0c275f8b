// The edge never lets a frame take the process down (SPEC WIRE-1, LIMIT-2).
import { decodeServerFrame, encodeClientFrame } from '@pairwise/protocol/frames';
import { RATE_LIMIT_BURST } from '@pairwise/protocol/limits';
import type { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { accountFixture, closeAccountFixtures } from '../test-support/account-fixture.js';
import { Connection, requestIdOf } from './connection.js';

afterEach(closeAccountFixtures);

describe('[LIMIT-2] refusals before decoding', () => {
  it('reads a request id as 32 bits: a larger one is no id, so its refusal can always be encoded', () => {
    expect(requestIdOf(encodeClientFrame({ requestId: 7, body: { case: 'ping', value: {} } }))).toBe(7);
    expect(requestIdOf(encodeClientFrame({ requestId: 0xffff_ffff, body: { case: 'ping', value: {} } }))).toBe(0xffff_ffff);
    expect(requestIdOf(new Uint8Array([0x08, 0x80, 0x80, 0x80, 0x80, 0x10]))).toBe(0);
    expect(requestIdOf(new Uint8Array([0xff]))).toBe(0);
  });

  it('a rate-limited frame whose id is 2^32 is refused, and nothing throws', async () => {
    const { ctx } = await accountFixture();
    const sent: Uint8Array[] = [];
    const socket = { readyState: 1, OPEN: 1, send: (bytes: Uint8Array, done: () => void) => (sent.push(bytes), done()), close: () => {}, once: () => {} };
    const connection = new Connection(socket as unknown as WebSocket, ctx, { ipAddress: '192.0.2.7', userAgent: '' });
    const ping = encodeClientFrame({ requestId: 1, body: { case: 'ping', value: {} } });
    // A burst and some: the bucket is in debt, well short of the debt that closes the socket.
    for (let i = 0; i < RATE_LIMIT_BURST + 20; i++) await connection.receive(ping, true);
    await expect(connection.receive(new Uint8Array([0x08, 0x80, 0x80, 0x80, 0x80, 0x10]), true)).resolves.toBeUndefined();
    const last = decodeServerFrame(sent.at(-1)!);
    expect(last.body.case === 'response' && last.body.value.error?.code).toBe('RATE_LIMITED');
    expect(last.body.case === 'response' && last.body.value.requestId).toBe(0);
    expect(connection.isClosed).toBe(false);
  });
});
