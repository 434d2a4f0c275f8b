/**
 * The SDK's socket factory in a browser: the platform WebSocket.
 * @module
 */
import type { SocketFactory, SocketLike } from '@pairwise/client/socket';

/**
 * Opens a WebSocket to `url`. The transport sets `binaryType` itself.
 *
 * The DOM's WebSocket has the members SocketLike names, but its handler properties are typed with
 * `this: WebSocket` and DOM event classes, which TypeScript will not match structurally against
 * the SDK's minimal event shapes; the cast is only about those declarations.
 */
export const browserSocket: SocketFactory = (url) => new WebSocket(url) as unknown as SocketLike;
