/**
 * The connection to the server: one WebSocket at a time, request/response matching, pushes,
 * and reconnection with exponential backoff and jitter.
 *
 * After each (re)connect the server sends a Challenge; `handshake` runs with it (authenticating,
 * or nothing for a companion that is not linked yet) before queued requests go out, so nothing is
 * sent on a connection that has not proved who it is.
 * @module
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { CLOSE_AUTH_FAILED, CLOSE_LOGGED_OUT, CLOSE_UPDATE_REQUIRED } from '@pairwise/protocol/errors';
import { decodeServerFrame, encodeClientFrame } from '@pairwise/protocol/frames';
import type { Challenge, ClientFrameSchema, Response, ServerFrame } from '@pairwise/protocol/wire';
import { ConnectionClosedError, RequestError, TimeoutError } from './errors.js';
import { SOCKET_OPEN, type SocketFactory, type SocketLike } from './socket.js';
import { after } from './timers.js';

/** The body of a request frame. */
export type RequestBody = NonNullable<MessageInitShape<typeof ClientFrameSchema>['body']>;
/** A successful response's result. */
export type ResponseResultOf = Response['result'];

/** Connection states, as the app shows them. */
export type ConnectionState = 'connecting' | 'online' | 'offline' | 'closed';

/** How the transport is set up. */
export interface TransportOptions {
  readonly url: string;
  readonly socketFactory: SocketFactory;
  /** Runs on every new connection with the server's challenge, before queued requests are sent. */
  readonly handshake: (challenge: Challenge) => Promise<void>;
  /** Every push (any frame that is not a response). */
  readonly onPush: (frame: ServerFrame) => void;
  /** The server ended the session for good (logged out, update required, auth failed). */
  readonly onFinalClose: (code: number, reason: string) => void;
  readonly onState?: (state: ConnectionState) => void;
  /** The handshake failed (a wrong clock, say); the transport retries with backoff. */
  readonly onHandshakeError?: (error: unknown) => void;
  readonly requestTimeoutMs?: number;
  /** Reconnect after a drop; off for one-shot uses. */
  readonly reconnect?: boolean;
}

interface Pending {
  resolve(result: ResponseResultOf): void;
  reject(error: Error): void;
  cancelTimer(): void;
}

const FINAL_CLOSE_CODES = new Set([CLOSE_LOGGED_OUT, CLOSE_UPDATE_REQUIRED, CLOSE_AUTH_FAILED]);
const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 30_000;

export class Transport {
  private socket: SocketLike | null = null;
  private ready = false;
  private stopped = false;
  private attempt = 0;
  private nextRequestId = 1;
  private readonly pending = new Map<number, Pending>();
  private waiters: { resolve(): void; reject(error: Error): void }[] = [];
  private cancelReconnect: (() => void) | null = null;

  constructor(private readonly options: TransportOptions) {}

  /** Opens the first connection. */
  start(): void {
    this.connect();
  }

  /** Closes for good; pending and queued requests fail with ConnectionClosedError. */
  stop(): void {
    this.stopped = true;
    this.cancelReconnect?.();
    this.socket?.close(1000, 'closed by client');
    this.failAll(new ConnectionClosedError('the client closed the connection'));
    this.options.onState?.('closed');
  }

  /** Sends a request once the connection is ready; resolves with the result or throws RequestError. */
  async request(body: RequestBody): Promise<ResponseResultOf> {
    await this.whenReady();
    return this.send(body);
  }

  /** Sends a request on the current socket without waiting for readiness (for the handshake). */
  send(body: RequestBody): Promise<ResponseResultOf> {
    const socket = this.socket;
    if (socket === null || socket.readyState !== SOCKET_OPEN) {
      return Promise.reject(new ConnectionClosedError('not connected'));
    }
    const requestId = this.nextRequestId++;
    return new Promise((resolve, reject) => {
      const cancelTimer = after(this.options.requestTimeoutMs ?? 15_000, () => {
        this.pending.delete(requestId);
        reject(new TimeoutError(`no answer to ${body.case}`));
      });
      this.pending.set(requestId, { resolve, reject, cancelTimer });
      socket.send(encodeClientFrame({ requestId, body }));
    });
  }

  /** Sends a frame that expects no response (inbox acks). */
  sendOneWay(body: RequestBody): void {
    if (this.socket?.readyState === SOCKET_OPEN && this.ready) this.socket.send(encodeClientFrame({ requestId: 0, body }));
  }

  /** Marks the connection usable without a handshake result (after linking on this socket). */
  get isReady(): boolean {
    return this.ready;
  }

  private whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    if (this.stopped) return Promise.reject(new ConnectionClosedError('the client closed the connection'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private connect(): void {
    if (this.stopped) return;
    this.options.onState?.('connecting');
    const socket = this.options.socketFactory(this.options.url);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    socket.onmessage = (event) => this.receive(socket, event.data);
    socket.onclose = (event) => this.closed(socket, event.code, event.reason);
    socket.onerror = () => {
      // A close event always follows; that is where recovery happens.
    };
  }

  private receive(socket: SocketLike, data: unknown): void {
    if (socket !== this.socket) return;
    let frame: ServerFrame;
    try {
      frame = decodeServerFrame(toBytes(data));
    } catch {
      return; // A frame we cannot read is dropped; the request it answered times out.
    }
    const body = frame.body;
    if (body.case === 'response') {
      const pending = this.pending.get(body.value.requestId);
      if (!pending) return;
      this.pending.delete(body.value.requestId);
      pending.cancelTimer();
      const error = body.value.error;
      if (error) {
        pending.reject(new RequestError(error.code, error.message, error.accounts, { retryAt: error.retryAt, triesLeft: error.triesLeft, deviceIds: error.deviceIds }));
      } else pending.resolve(body.value.result);
      return;
    }
    if (body.case === 'challenge' && !this.ready) {
      this.options
        .handshake(body.value)
        .then(() => {
          if (socket !== this.socket) return;
          this.ready = true;
          this.attempt = 0;
          this.options.onState?.('online');
          for (const waiter of this.waiters.splice(0)) waiter.resolve();
        })
        .catch((error: unknown) => {
          // Nothing may be sent on a connection that did not prove who it is: drop it and try
          // again later. Queued requests keep waiting; the app hears why (e.g. CLOCK_SKEW).
          this.options.onHandshakeError?.(error);
          if (socket === this.socket) socket.close(1000, 'handshake failed');
        });
      return;
    }
    this.options.onPush(frame);
  }

  private closed(socket: SocketLike, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.ready = false;
    this.failPending(new ConnectionClosedError(`connection closed (${code})`));
    if (this.stopped) return;
    if (FINAL_CLOSE_CODES.has(code)) {
      this.stopped = true;
      this.failAll(new ConnectionClosedError(`the server ended the session (${code})`));
      this.options.onFinalClose(code, reason);
      return;
    }
    this.options.onState?.('offline');
    if (this.options.reconnect === false) {
      this.stopped = true;
      this.failAll(new ConnectionClosedError('connection closed'));
      return;
    }
    // Exponential backoff with full jitter, so that a restarted server is not hit by every client at once.
    const ceiling = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** this.attempt++);
    this.cancelReconnect = after(Math.random() * ceiling, () => this.connect());
  }

  private failPending(error: Error): void {
    for (const pending of this.pending.values()) {
      pending.cancelTimer();
      pending.reject(error);
    }
    this.pending.clear();
  }

  private failAll(error: Error): void {
    this.failPending(error);
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}

function toBytes(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError('binary frames only');
}
