/**
 * A server in the test's own process, for SDK tests that need to send what no honest server
 * would: any frame, any Deliver, in any number, at once. It speaks the wire protocol through
 * `SocketLike` (no network): each socket gets a Challenge when it opens, requests get default
 * answers (overridable per request case), and `push` sends any frame to every open socket.
 * @module
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { decodeClientFrame, encodeServerFrame } from '@pairwise/protocol/frames';
import { PROTOCOL_VERSION } from '@pairwise/protocol/version';
import type { AccountDevicesSchema, ClientFrame, Register, ResponseSchema, SendMessage, ServerFrameSchema } from '@pairwise/protocol/wire';
import type { ClientStore } from '../client-store.js';
import { PairwiseClient } from '../pairwise-client.js';
import { SOCKET_OPEN, type SocketFactory, type SocketLike } from '../socket.js';

type RequestBody = ClientFrame['body'];
type RequestCase = NonNullable<RequestBody['case']>;
type ResponseInit = MessageInitShape<typeof ResponseSchema>;
/** A request's answer: a result, or an error code (and message). */
export type FakeAnswer = ResponseInit['result'] | { readonly error: string; readonly message?: string };
type Handler = (value: unknown, socket: FakeSocket) => FakeAnswer | Promise<FakeAnswer>;

/** The fake server. */
export class FakeServer {
  /** Every request received, in order (acknowledgements included). */
  readonly requests: RequestBody[] = [];
  /** Every seq acknowledged. */
  readonly acks: number[] = [];
  /** Every SendMessage received, answered or not. */
  readonly sent: SendMessage[] = [];
  /** Accounts `getAccountDevices` (and `listDevices`, for `self`) report. */
  readonly accounts = new Map<string, MessageInitShape<typeof AccountDevicesSchema>>();
  /** The account of the device that authenticates, for `listDevices`. */
  self = '';
  private readonly sockets = new Set<FakeSocket>();
  private readonly handlers = new Map<RequestCase, Handler>();
  private time = 1_790_000_000_000;

  /** The fake's clock; clients made for it should use it too. */
  readonly now = (): number => this.time;

  /** Moves the fake's clock on. */
  advance(ms: number): void {
    this.time += ms;
  }

  /** The factory to give a client. */
  readonly socketFactory: SocketFactory = () => {
    const socket = new FakeSocket(this);
    this.sockets.add(socket);
    return socket;
  };

  /** Answers requests of `kind` with `handler` instead of the default. */
  on(kind: RequestCase, handler: Handler): void {
    this.handlers.set(kind, handler);
  }

  /** Sends `frame` to every open socket. */
  push(frame: MessageInitShape<typeof ServerFrameSchema>): void {
    this.pushBytes(encodeServerFrame(frame));
  }

  /** Sends raw bytes to every open socket (frames no server should send). */
  pushBytes(bytes: Uint8Array): void {
    for (const socket of this.sockets) socket.deliver(bytes);
  }

  /** Closes every open socket as a lost connection would (the clients reconnect). */
  dropConnections(): void {
    for (const socket of [...this.sockets]) socket.close(1006, 'connection lost');
  }

  /** Sockets open now. */
  get openSockets(): number {
    return [...this.sockets].filter((socket) => socket.readyState === SOCKET_OPEN).length;
  }

  /** @internal */
  forget(socket: FakeSocket): void {
    this.sockets.delete(socket);
  }

  /** @internal */
  opened(socket: FakeSocket): void {
    socket.deliver(
      encodeServerFrame({
        body: {
          case: 'challenge',
          value: {
            nonce: new Uint8Array(32).fill(7),
            serverTime: this.time,
            expiresAt: this.time + 60_000,
            protocolVersion: PROTOCOL_VERSION,
            minProtocolVersion: PROTOCOL_VERSION,
          },
        },
      }),
    );
  }

  /** @internal */
  async received(socket: FakeSocket, bytes: Uint8Array): Promise<void> {
    const frame = decodeClientFrame(bytes);
    this.requests.push(frame.body);
    const kind = frame.body.case;
    if (kind === undefined) return;
    if (frame.body.case === 'sendMessage') this.sent.push(frame.body.value);
    if (kind === 'ackInbox') {
      this.acks.push(...(frame.body.value as { seqs: number[] }).seqs);
      if (frame.requestId === 0) return;
    }
    const handler = this.handlers.get(kind) ?? ((value: unknown) => this.answer(kind, value));
    let answer: FakeAnswer;
    try {
      answer = await handler(frame.body.value, socket);
    } catch {
      answer = { error: 'INTERNAL' };
    }
    const response: ResponseInit =
      answer !== undefined && 'error' in answer
        ? { requestId: frame.requestId, error: { code: answer.error, message: answer.message ?? answer.error } }
        : { requestId: frame.requestId, ...(answer === undefined ? {} : { result: answer }) };
    socket.deliver(encodeServerFrame({ body: { case: 'response', value: response } }));
  }

  /** What an honest server would answer, near enough for the client to carry on. */
  private answer(kind: RequestCase, value: unknown): FakeAnswer {
    switch (kind) {
      case 'authenticate':
        return {
          case: 'authenticated',
          value: { serverTime: this.time, oneTimePreKeys: 100, pqOneTimePreKeys: 100, attested: true },
        };
      case 'register': {
        // Known from now on, as a server would report it.
        const body = value as Register;
        this.accounts.set(body.username, {
          accountId: body.username,
          accountKey: body.accountKey,
          deviceList: body.deviceList!,
          deviceIds: [body.deviceId],
          attestations: [{ deviceId: body.deviceId, signature: body.attestation }],
        });
        return { case: 'registered', value: { accountId: body.username } };
      }
      case 'getAccountDevices': {
        const account = this.accounts.get((value as { accountId: string }).accountId);
        return account === undefined ? { error: 'UNKNOWN_ACCOUNT' } : { case: 'accountDevices', value: account };
      }
      case 'listDevices': {
        const account = this.accounts.get(this.self);
        return { case: 'devices', value: { devices: [], ...(account ? { account } : {}) } };
      }
      case 'uploadPreKeys':
        return { case: 'preKeyStatus', value: { oneTimePreKeys: 100, pqOneTimePreKeys: 100 } };
      case 'sendMessage':
        return { case: 'sendResult', value: { serverTime: this.time, duplicate: false } };
      case 'ping':
      case 'ackInbox':
      case 'attestDevice':
      case 'updateDeviceList':
        return { case: 'ok', value: {} };
      case 'requestChallenge':
      case 'createLinkToken':
      case 'getLinkRequest':
      case 'approveLink':
      case 'fetchBundles':
      case 'removeDevice':
      case 'logOut':
      case 'setPin':
      case 'verifyPin':
      case 'getSecurity':
      case 'setPolicies':
      case 'getSecurityLog':
        // A test that needs one of these answers it with `on`.
        return { error: 'INTERNAL', message: `the fake server does not answer ${kind}` };
    }
  }
}

/** One socket of the fake server. */
export class FakeSocket implements SocketLike {
  binaryType = 'arraybuffer';
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(private readonly server: FakeServer) {
    void Promise.resolve().then(() => {
      if (this.readyState !== 0) return;
      this.readyState = SOCKET_OPEN;
      this.onopen?.({});
      server.opened(this);
    });
  }

  send(data: Uint8Array): void {
    if (this.readyState !== SOCKET_OPEN) return;
    const copy = data.slice();
    void Promise.resolve().then(() => this.server.received(this, copy));
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.server.forget(this);
    void Promise.resolve().then(() => this.onclose?.({ code, reason }));
  }

  /** @internal A frame from the server, delivered as a socket would (asynchronously, a copy). */
  deliver(bytes: Uint8Array): void {
    if (this.readyState !== SOCKET_OPEN) return;
    const copy = bytes.slice().buffer;
    void Promise.resolve().then(() => {
      if (this.readyState === SOCKET_OPEN) this.onmessage?.({ data: copy });
    });
  }
}

/** The origin the fake server's clients use. */
export const FAKE_ORIGIN = 'https://chat.example.org';

/** A new account `username` on `server`, its primary keeping its state in `store`, connected. */
export async function createFakeClient(server: FakeServer, username: string, store: ClientStore): Promise<PairwiseClient> {
  server.self = username;
  const client = await PairwiseClient.createAccount({
    origin: FAKE_ORIGIN,
    url: 'ws://fake/ws',
    socketFactory: server.socketFactory,
    store,
    username,
    now: server.now,
    deliveryReceipts: false,
  });
  await client.ready();
  return client;
}
