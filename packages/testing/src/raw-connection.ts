/**
 * A bare protocol connection for tests that must send what no honest client would: malformed,
 * oversized or forged frames. It can authenticate as a device whose identity is in a store.
 * @module
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { signDeviceChallenge } from '@pairwise/crypto/device-auth';
import { StoreTable, type ClientStore } from '@pairwise/client/client-store';
import type { StoredIdentity } from '@pairwise/client/identity';
import { decodeServerFrame, encodeClientFrame } from '@pairwise/protocol/frames';
import { PROTOCOL_VERSION } from '@pairwise/protocol/version';
import type { ClientFrameSchema, Response, ServerFrame } from '@pairwise/protocol/wire';
import WebSocket from 'ws';
import type { ServerProcess } from './server-process.js';

type Body = NonNullable<MessageInitShape<typeof ClientFrameSchema>['body']>;

export class RawConnection {
  private readonly frames: ServerFrame[] = [];
  private readonly waiters: (() => void)[] = [];
  private nextId = 1;
  closeCode: number | null = null;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      try {
        this.frames.push(decodeServerFrame(new Uint8Array(data)));
      } catch {
        return;
      }
      for (const wake of this.waiters.splice(0)) wake();
    });
    // A hostile test writes on after the server closed; the close code is what it checks.
    socket.on('error', () => {});
    socket.on('close', (code) => {
      this.closeCode = code;
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /**
   * Opens a connection and waits for the server's challenge. `headers` are sent with the upgrade
   * (an Origin, or an X-Forwarded-For that a server trusting 127.0.0.1 as its proxy believes).
   */
  static async open(server: Pick<ServerProcess, 'url'>, headers: Record<string, string> = {}): Promise<RawConnection> {
    const socket = new WebSocket(server.url, { headers });
    const connection = new RawConnection(socket);
    await connection.next((frame) => frame.body.case === 'challenge');
    return connection;
  }

  /**
   * Tries to open a connection and reports how it went: 'open' once the challenge arrived, or the
   * HTTP status with which the server refused the upgrade.
   */
  static async attempt(server: Pick<ServerProcess, 'url'>, headers: Record<string, string> = {}): Promise<{ connection: RawConnection } | { status: number }> {
    const socket = new WebSocket(server.url, { headers });
    const refused = new Promise<{ status: number }>((resolve, reject) => {
      socket.once('unexpected-response', (_request, response) => resolve({ status: response.statusCode ?? 0 }));
      socket.once('error', reject);
    });
    const connection = new RawConnection(socket);
    const opened = connection.next((frame) => frame.body.case === 'challenge').then(() => ({ connection }));
    return Promise.race([opened, refused]);
  }

  /**
   * Stops reading from the socket, as a client that never reads does: what the server sends piles
   * up in the kernel's buffers and then in the server's.
   */
  stopReading(): void {
    this.socket.pause();
  }

  /** Sends a request without waiting for its response; returns its request id. */
  sendRequest(body: Body): number {
    const requestId = this.nextId++;
    this.socket.send(encodeClientFrame({ requestId, body }));
    return requestId;
  }

  /** The response to `requestId` (already received or still to come). */
  async response(requestId: number, timeoutMs = 5000): Promise<Response> {
    const frame = await this.next((candidate) => candidate.body.case === 'response' && candidate.body.value.requestId === requestId, timeoutMs);
    return (frame.body as { value: Response }).value;
  }

  /** Sends raw bytes (or text) exactly as given. */
  sendRaw(data: Uint8Array | string): void {
    this.socket.send(data, { binary: typeof data !== 'string' });
  }

  /** Sends a request and resolves with its response. */
  request(body: Body, timeoutMs = 5000): Promise<Response> {
    return this.response(this.sendRequest(body), timeoutMs);
  }

  /** The next frame matching `predicate` (already received or still to come). */
  async next(predicate: (frame: ServerFrame) => boolean, timeoutMs = 5000): Promise<ServerFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.frames.findIndex(predicate);
      if (index >= 0) return this.frames.splice(index, 1)[0]!;
      if (this.closeCode !== null) throw new Error(`socket closed (${this.closeCode})`);
      if (Date.now() > deadline) throw new Error('timed out waiting for a frame');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** Every frame received and not yet taken, e.g. to count pushed deliveries. */
  get received(): readonly ServerFrame[] {
    return this.frames;
  }

  /** Authenticates as the device kept in `store`; `now` is the server's time (a test's fake clock). */
  async authenticateAs(store: ClientStore, origin: string, now: () => number = Date.now): Promise<Response> {
    const identity = (await store.get<StoredIdentity>(StoreTable.Identity, 'self'))!;
    const challenge = await this.request({ case: 'requestChallenge', value: {} });
    if (challenge.result.case !== 'challenge') throw new Error('no challenge');
    const clientTime = now();
    const signature = await signDeviceChallenge(identity.device.signing.privateKey, {
      origin,
      nonce: challenge.result.value.nonce,
      accountId: identity.accountId,
      deviceId: identity.deviceId,
      clientTime,
    });
    return this.request({
      case: 'authenticate',
      value: { accountId: identity.accountId, deviceId: identity.deviceId, clientTime, signature, protocolVersion: PROTOCOL_VERSION },
    });
  }

  /** Resolves when the socket has closed; returns the close code. */
  async closed(timeoutMs = 2000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.closeCode === null) {
      if (Date.now() > deadline) throw new Error('the socket did not close');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.closeCode;
  }

  close(): void {
    this.socket.close();
  }
}
