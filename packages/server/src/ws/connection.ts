/**
 * One WebSocket connection: its authentication state, its rate limit, and the edge where frames
 * are parsed. Every inbound frame goes through `receive`, which never throws: a frame that cannot
 * be parsed or handled gets an Error response from the error table and the connection (and the
 * server) goes on serving.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { CLOSE_AUTH_TIMEOUT, CLOSE_BAD_FRAMES, CLOSE_NOT_READING, CLOSE_RATE_EXCEEDED, ProtocolError, WireError } from '@pairwise/protocol/errors';
import { decodeClientFrame, encodeServerFrame } from '@pairwise/protocol/frames';
import {
  AUTH_DEADLINE_MS,
  CHALLENGE_TTL_MS,
  LINK_SESSION_MS,
  LINK_TOKEN_TTL_MS,
  MAX_BAD_FRAMES,
  MAX_RATE_DEBT,
  MAX_UNREAD_BYTES,
  PUSH_BUFFER_BYTES,
  RATE_LIMIT_BURST,
  RATE_LIMIT_PER_SECOND,
} from '@pairwise/protocol/limits';
import { PROTOCOL_VERSION } from '@pairwise/protocol/version';
import type { ResponseSchema, ServerFrameSchema } from '@pairwise/protocol/wire';
import type { WebSocket } from 'ws';
import type { ServerContext } from '../context.js';
import { HANDLERS } from '../handlers/table.js';
import type { DeviceKind } from '../store/store.js';
import { CLOSE_TRY_AGAIN_LATER } from './admission.js';
import { RateLimiter } from './rate-limiter.js';

/** The result part of a Response. */
export type ResponseResult = NonNullable<MessageInitShape<typeof ResponseSchema>['result']>;
/** Anything the server sends. */
export type ServerFrameInit = MessageInitShape<typeof ServerFrameSchema>;

/** Who is on the other end, once authenticated. */
export interface AuthenticatedDevice {
  readonly accountId: string;
  readonly deviceId: string;
  readonly kind: DeviceKind;
  /** A temporary session: removed once its sockets have been gone for a minute (SPEC TEMP-1). */
  readonly temporary: boolean;
}

/** Where the connection came from, for the link confirmation and rate limits. */
export interface ConnectionOrigin {
  readonly ipAddress: string;
  readonly userAgent: string;
}

/**
 * What one request's handler may ask of the edge. Each request has its own, so that one request
 * failing can never drop another's follow-up work (such as the start of delivery after
 * authentication) while both are in flight.
 */
export interface RequestScope {
  /** Runs `task` once this request's response has been sent (and not if it failed). */
  afterResponse(task: () => Promise<void>): void;
}

let nextConnectionId = 1;

export class Connection {
  readonly id = nextConnectionId++;
  /** When the socket opened (real time, ms), for the authentication deadline (SPEC LIMIT-5). */
  readonly openedAt = Date.now();
  device: AuthenticatedDevice | null = null;
  /** An Authenticate is being checked: a second one at the same time is refused (SPEC AUTH-4). */
  authenticating = false;
  /** Hashes (hex) of the live link tokens this not-yet-linked companion waits on. */
  readonly pendingLinks = new Set<string>();
  linkTokensIssued = 0;
  /** Highest inbox seq pushed on this connection; the pump reads after it. */
  lastPushedSeq = 0;
  private challenge: { nonce: Uint8Array; expiresAt: number } | null = null;
  private readonly limiter: RateLimiter;
  private badFrames = 0;
  /** Bytes handed to the socket and not yet written out to the network (SPEC LIMIT-1, LIMIT-2). */
  private unsentBytes = 0;
  private readonly drainListeners = new Set<() => void>();
  private readonly closeListeners = new Set<() => void>();
  private deadline: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly socket: WebSocket,
    readonly ctx: ServerContext,
    readonly origin: ConnectionOrigin,
  ) {
    this.limiter = new RateLimiter(RATE_LIMIT_PER_SECOND, RATE_LIMIT_BURST, () => ctx.clock.now(), MAX_RATE_DEBT);
    socket.once('close', () => {
      this.closed = true;
      if (this.deadline !== null) clearTimeout(this.deadline);
      for (const listener of this.closeListeners) listener();
      this.closeListeners.clear();
      this.drainListeners.clear();
    });
  }

  /** Called once, when the connection becomes a device (app.ts: it is pending no more, SPEC LIMIT-4). */
  onSignedIn: (() => void) | null = null;

  /** The connection has proved it is `device` (SPEC AUTH-1). */
  signIn(device: AuthenticatedDevice): void {
    this.device = device;
    this.onSignedIn?.();
    this.onSignedIn = null;
  }

  /** A companion showing link codes (it asked for one), waiting for the phone (SPEC LIMIT-5). */
  get linking(): boolean {
    return this.device === null && this.linkTokensIssued > 0;
  }

  /**
   * Closes a socket that is not yet a device because the server is full of those (SPEC LIMIT-4).
   * It is no longer counted, so it gets only a moment for the closing handshake.
   */
  evict(): void {
    this.close(CLOSE_TRY_AGAIN_LATER, 'TRY_AGAIN_LATER', EVICTED_CLOSE_MS);
  }

  /** Sends the first challenge (SPEC AUTH-1) and starts the authentication deadline (SPEC LIMIT-5). */
  start(): void {
    this.push({ body: { case: 'challenge', value: this.issueChallenge() } });
    this.checkDeadline(AUTH_DEADLINE_MS);
  }

  /**
   * A socket that is neither a device nor a companion showing link codes holds a file descriptor
   * and a slot for nothing: it is closed AUTH_DEADLINE_MS after it opened. A companion that asked
   * for a link code may wait for the phone for its whole link session. Real time throughout, not
   * the server's clock: this bounds resources, not protocol state.
   */
  private checkDeadline(delayMs: number): void {
    this.deadline = setTimeout(() => {
      this.deadline = null;
      if (this.closed || this.device !== null) return;
      const linkingUntil = this.openedAt + LINK_SESSION_MS + LINK_TOKEN_TTL_MS;
      const now = Date.now();
      if (this.authenticating) this.checkDeadline(1000);
      else if (this.linkTokensIssued > 0 && now < linkingUntil) this.checkDeadline(Math.min(linkingUntil - now, LINK_SESSION_MS));
      else this.close(CLOSE_AUTH_TIMEOUT, 'AUTH_TIMEOUT');
    }, delayMs);
    this.deadline.unref();
  }

  /** A fresh single-use nonce for this connection; any earlier one stops working. */
  issueChallenge() {
    const now = this.ctx.clock.now();
    this.challenge = { nonce: new Uint8Array(randomBytes(32)), expiresAt: now + CHALLENGE_TTL_MS };
    return {
      nonce: this.challenge.nonce,
      serverTime: now,
      expiresAt: this.challenge.expiresAt,
      protocolVersion: PROTOCOL_VERSION,
      minProtocolVersion: this.ctx.config.minProtocolVersion,
    };
  }

  /** Takes the current nonce if it is still valid; it can be taken once (SPEC AUTH-2). */
  takeChallenge(): Uint8Array | null {
    const challenge = this.challenge;
    this.challenge = null;
    if (challenge === null || challenge.expiresAt < this.ctx.clock.now()) return null;
    return challenge.nonce;
  }

  /** Handles one inbound WebSocket message. Never throws, whatever the bytes. */
  async receive(data: Uint8Array, isBinary: boolean): Promise<void> {
    try {
      await this.handleFrame(data, isBinary);
    } catch (error) {
      // Only a fault of our own gets here (an answer that cannot be encoded, say): the peer's
      // socket goes, the server stays.
      this.ctx.log.error({ err: error instanceof Error ? { name: error.name, message: error.message } : String(error) }, 'frame handling failed');
      this.close(1011, 'INTERNAL');
    }
  }

  private async handleFrame(data: Uint8Array, isBinary: boolean): Promise<void> {
    if (this.closed) return;
    // Every frame counts against the rate limit, a frame that cannot even be decoded included:
    // refusing it costs a reply, which must not come cheaper than a well-formed request (SPEC LIMIT-2).
    const allowed = this.limiter.take();
    if (allowed === 'exceeded') {
      this.close(CLOSE_RATE_EXCEEDED, 'RATE_LIMITED');
      return;
    }
    if (allowed === 'refused') {
      this.fail(requestIdOf(data), new ProtocolError('RATE_LIMITED', undefined, { retryAt: this.ctx.clock.now() + this.limiter.msUntilNext() }));
      return;
    }
    let frame: ReturnType<typeof decodeClientFrame>;
    try {
      if (!isBinary) throw new ProtocolError('BAD_FRAME', 'frames are binary Protocol Buffers');
      frame = decodeClientFrame(data);
    } catch (error) {
      // No honest client sends one; a few are answered, in case a bug in one shows itself.
      if (++this.badFrames > MAX_BAD_FRAMES) this.close(CLOSE_BAD_FRAMES, 'BAD_FRAME');
      else this.fail(0, error instanceof ProtocolError ? error : new ProtocolError('BAD_FRAME'));
      return;
    }
    const { requestId } = frame;
    const tasks: (() => Promise<void>)[] = [];
    const scope: RequestScope = { afterResponse: (task) => void tasks.push(task) };
    try {
      const body = frame.body;
      if (body.case === undefined) {
        // As good as undecodable: it counts towards the bad frames too.
        if (++this.badFrames > MAX_BAD_FRAMES) {
          this.close(CLOSE_BAD_FRAMES, 'BAD_FRAME');
          return;
        }
        throw new ProtocolError('BAD_FRAME', 'the frame has no body');
      }
      const entry = HANDLERS[body.case];
      if (entry.access !== 'anyone' && this.device === null) throw new ProtocolError('NOT_AUTHENTICATED');
      if (entry.access === 'primary' && this.device?.kind !== 'primary') throw new ProtocolError('FORBIDDEN');
      const result = await entry.handle(this, body.value as never, scope);
      if (requestId !== 0) this.respond(requestId, result);
    } catch (error) {
      this.fail(requestId, error);
      return;
    }
    for (const task of tasks) {
      await task().catch((error: unknown) => this.ctx.log.error({ err: String(error) }, 'after-response task failed'));
    }
  }

  /** Sends a successful response. */
  respond(requestId: number, result: ResponseResult): void {
    this.push({ body: { case: 'response', value: { requestId, result } } });
  }

  /** Sends an error response, and closes the socket when the error table says so. */
  fail(requestId: number, error: unknown): void {
    const protocolError =
      error instanceof ProtocolError ? error : new ProtocolError('INTERNAL', undefined, { cause: error });
    this.ctx.metrics.refused(protocolError.code);
    if (protocolError.code === 'INTERNAL') {
      // Only the error's class and message: never frame contents.
      this.ctx.log.error({ err: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error) }, 'request failed');
    }
    this.push({
      body: {
        case: 'response',
        value: {
          requestId,
          error: {
            code: protocolError.code,
            message: protocolError.message,
            accounts: accountsOf(error),
            deviceIds: error instanceof InboxFullError ? [...error.deviceIds] : [],
            retryAt: protocolError.retryAt,
            triesLeft: protocolError.triesLeft,
          },
        },
      },
    });
    const closeCode = WireError[protocolError.code].closeCode;
    if (closeCode !== null) this.close(closeCode, protocolError.code);
  }

  /**
   * Sends a frame if the socket is still open. A peer that lets MAX_UNREAD_BYTES of frames pile up
   * unread is not a client that reads, and is closed (SPEC LIMIT-2). Pushers that can wait (the
   * inbox pump) check `canPush` first and wait for `onDrain`.
   */
  push(frame: ServerFrameInit): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    if (this.unsentBytes > MAX_UNREAD_BYTES) {
      this.close(CLOSE_NOT_READING, 'NOT_READING');
      return;
    }
    const bytes = encodeServerFrame(frame);
    this.unsentBytes += bytes.byteLength;
    // The callback runs once ws has written the frame to the network (or failed to).
    this.socket.send(bytes, () => {
      this.unsentBytes -= bytes.byteLength;
      if (this.unsentBytes <= PUSH_BUFFER_BYTES / 2) for (const listener of [...this.drainListeners]) listener();
    });
  }

  /** Whether a pusher that can wait should push now: the send buffer is below PUSH_BUFFER_BYTES. */
  get canPush(): boolean {
    return this.unsentBytes < PUSH_BUFFER_BYTES;
  }

  /** Calls `listener` whenever the send buffer has drained to half of PUSH_BUFFER_BYTES. */
  onDrain(listener: () => void): () => void {
    this.drainListeners.add(listener);
    return () => this.drainListeners.delete(listener);
  }

  /** Calls `listener` once, when the socket has closed. */
  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.add(listener);
  }

  /** Closes the socket with a code and a short reason (never anything secret). */
  close(code: number, reason: string, handshakeMs = CLOSE_HANDSHAKE_MS): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close(code, reason);
    // A peer that does not answer the closing handshake does not hold the socket for ever.
    setTimeout(() => this.socket.terminate(), handshakeMs).unref();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Whether the socket is still open: the peer may have gone while a request was being handled. */
  get isOpen(): boolean {
    return !this.closed && this.socket.readyState === this.socket.OPEN;
  }
}

/** How long a closing socket may take to answer the close handshake before it is cut. */
const CLOSE_HANDSHAKE_MS = 5000;
/** The same for an evicted pending socket, which no bound counts any more (SPEC LIMIT-4). */
const EVICTED_CLOSE_MS = 1000;

/**
 * The request id of a frame refused before decoding (field 1, a varint, when the frame starts
 * with it), so that the refusal names its request; 0 when it cannot be read cheaply.
 */
export function requestIdOf(data: Uint8Array): number {
  if (data[0] !== 0x08) return 0;
  let value = 0;
  for (let i = 1, shift = 0; i < Math.min(data.length, 6); i++, shift += 7) {
    const byte = data[i] ?? 0;
    value += (byte & 0x7f) * 2 ** shift;
    // A request id is a uint32: anything larger is no request id of ours (and could not be encoded).
    if ((byte & 0x80) === 0) return value <= 0xffff_ffff ? value : 0;
  }
  return 0;
}

/** Errors that carry the current device lists (DEVICES_CHANGED) attach them here. */
export class DevicesChangedError extends ProtocolError {
  constructor(readonly accounts: NonNullable<NonNullable<MessageInitShape<typeof ResponseSchema>['error']>['accounts']>) {
    super('DEVICES_CHANGED');
  }
}

/** INBOX_FULL names the devices whose inbox is full, so that the sender's app can say whose (SPEC LIMIT-3). */
export class InboxFullError extends ProtocolError {
  constructor(readonly deviceIds: readonly string[]) {
    super('INBOX_FULL');
  }
}

function accountsOf(error: unknown) {
  return error instanceof DevicesChangedError ? error.accounts : [];
}
