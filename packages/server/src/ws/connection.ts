/**
 * One WebSocket connection: its authentication state, its rate limit, and the edge where frames
 * are parsed. Every inbound frame goes through `receive`, which never throws: a frame that cannot
 * be parsed or handled gets an Error response from the error table and the connection (and the
 * server) goes on serving.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { ProtocolError, WireError } from '@pairwise/protocol/errors';
import { decodeClientFrame, encodeServerFrame } from '@pairwise/protocol/frames';
import { CHALLENGE_TTL_MS, RATE_LIMIT_BURST, RATE_LIMIT_PER_SECOND } from '@pairwise/protocol/limits';
import { PROTOCOL_VERSION } from '@pairwise/protocol/version';
import type { ResponseSchema, ServerFrameSchema } from '@pairwise/protocol/wire';
import type { WebSocket } from 'ws';
import type { ServerContext } from '../context.js';
import { HANDLERS } from '../handlers/table.js';
import type { DeviceKind } from '../store/store.js';
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

let nextConnectionId = 1;

export class Connection {
  readonly id = nextConnectionId++;
  device: AuthenticatedDevice | null = null;
  /** Hashes (hex) of the live link tokens this not-yet-linked companion waits on. */
  readonly pendingLinks = new Set<string>();
  linkTokensIssued = 0;
  /** Highest inbox seq pushed on this connection; the pump reads after it. */
  lastPushedSeq = 0;
  private challenge: { nonce: Uint8Array; expiresAt: number } | null = null;
  private readonly afterResponseTasks: (() => Promise<void>)[] = [];
  private readonly limiter: RateLimiter;
  private closed = false;

  constructor(
    private readonly socket: WebSocket,
    readonly ctx: ServerContext,
    readonly origin: ConnectionOrigin,
  ) {
    this.limiter = new RateLimiter(RATE_LIMIT_PER_SECOND, RATE_LIMIT_BURST, () => ctx.clock.now());
  }

  /** Sends the first challenge (SPEC AUTH-1). */
  start(): void {
    this.push({ body: { case: 'challenge', value: this.issueChallenge() } });
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

  /** Handles one inbound WebSocket message. Never throws. */
  async receive(data: Uint8Array, isBinary: boolean): Promise<void> {
    let requestId = 0;
    try {
      if (!isBinary) throw new ProtocolError('BAD_FRAME', 'frames are binary Protocol Buffers');
      const frame = decodeClientFrame(data);
      requestId = frame.requestId;
      // After decoding, so that the refusal names the request it refuses.
      if (!this.limiter.take()) throw new ProtocolError('RATE_LIMITED');
      const body = frame.body;
      if (body.case === undefined) throw new ProtocolError('BAD_FRAME', 'the frame has no body');
      const entry = HANDLERS[body.case];
      if (entry.access !== 'anyone' && this.device === null) throw new ProtocolError('NOT_AUTHENTICATED');
      if (entry.access === 'primary' && this.device?.kind !== 'primary') throw new ProtocolError('FORBIDDEN');
      const result = await entry.handle(this, body.value as never);
      if (requestId !== 0) this.respond(requestId, result);
    } catch (error) {
      this.afterResponseTasks.length = 0;
      this.fail(requestId, error);
    }
    for (const task of this.afterResponseTasks.splice(0)) {
      await task().catch((error: unknown) => this.ctx.log.error({ err: String(error) }, 'after-response task failed'));
    }
  }

  /** Runs `task` once the current request's response has been sent (and not if it failed). */
  afterResponse(task: () => Promise<void>): void {
    this.afterResponseTasks.push(task);
  }

  /** Sends a successful response. */
  respond(requestId: number, result: ResponseResult): void {
    this.push({ body: { case: 'response', value: { requestId, result } } });
  }

  /** Sends an error response, and closes the socket when the error table says so. */
  fail(requestId: number, error: unknown): void {
    const protocolError =
      error instanceof ProtocolError ? error : new ProtocolError('INTERNAL', undefined, { cause: error });
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
            retryAt: protocolError.retryAt,
            triesLeft: protocolError.triesLeft,
          },
        },
      },
    });
    const closeCode = WireError[protocolError.code].closeCode;
    if (closeCode !== null) this.close(closeCode, protocolError.code);
  }

  /** Sends a frame if the socket is still open. */
  push(frame: ServerFrameInit): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(encodeServerFrame(frame));
  }

  /** Closes the socket with a code and a short reason (never anything secret). */
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close(code, reason);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Whether the socket is still open: the peer may have gone while a request was being handled. */
  get isOpen(): boolean {
    return !this.closed && this.socket.readyState === this.socket.OPEN;
  }
}

/** Errors that carry the current device lists (DEVICES_CHANGED) attach them here. */
export class DevicesChangedError extends ProtocolError {
  constructor(readonly accounts: NonNullable<NonNullable<MessageInitShape<typeof ResponseSchema>['error']>['accounts']>) {
    super('DEVICES_CHANGED');
  }
}

function accountsOf(error: unknown) {
  return error instanceof DevicesChangedError ? error.accounts : [];
}
