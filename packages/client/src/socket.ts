/**
 * The WebSocket the SDK talks through, as an interface: the browser's WebSocket and Node's `ws`
 * both fit it, and the SDK itself stays free of either.
 * @module
 */

/** The part of a WebSocket the SDK uses. */
export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/** Opens a WebSocket to `url`: `(url) => new WebSocket(url)` in a browser, `ws` in Node. */
export type SocketFactory = (url: string) => SocketLike;

/** WebSocket readyState OPEN (the same number in every implementation). */
export const SOCKET_OPEN = 1;
