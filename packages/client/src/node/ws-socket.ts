/**
 * The WebSocket for the SDK in Node, from the `ws` package (Node 20 has no global WebSocket).
 * @module
 */
import WebSocket from 'ws';
import type { SocketFactory, SocketLike } from '../socket.js';

/** Opens `ws` sockets with a frame limit matching the server's. */
export const nodeSocketFactory: SocketFactory = (url) =>
  new WebSocket(url, { maxPayload: 1024 * 1024, headers: { 'user-agent': 'Pairwise Node SDK' } }) as unknown as SocketLike;
