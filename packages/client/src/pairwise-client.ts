/**
 * The SDK's entry point: one object per device, for the web app, tests, benchmarks and a future
 * CLI alike. Keys and ratchets stay inside; the app sees accounts, chats, devices and events.
 * @module
 */
import { randomBytes, toHex } from '@pairwise/crypto/bytes';
import { signDeviceChallenge } from '@pairwise/crypto/device-auth';
import { signDeviceCertificate } from '@pairwise/crypto/device-certificate';
import { signDeviceList } from '@pairwise/crypto/device-list';
import { generateAccountIdentity, generateDeviceIdentity, publicIdentity } from '@pairwise/crypto/keys';
import { sealLinkBundle } from '@pairwise/crypto/link-bundle';
import { computeSafetyNumber, type SafetyNumber } from '@pairwise/crypto/safety-number';
import { CLOSE_LOGGED_OUT, CLOSE_UPDATE_REQUIRED } from '@pairwise/protocol/errors';
import { fromBase64Url, toBase64Url } from '@pairwise/protocol/base64url';
import { decodeLinkQr } from '@pairwise/protocol/link-qr';
import { DEVICE_LIST_VALIDITY_MS, PREKEYS_LOW_THRESHOLD } from '@pairwise/protocol/limits';
import { PROTOCOL_VERSION } from '@pairwise/protocol/version';
import { isPinFormat } from '@pairwise/protocol/pin-policy';
import type { Challenge, DeviceInfo, ServerFrame } from '@pairwise/protocol/wire';
import type { ClientEventMap } from './client-events.js';
import type { ClientStore } from './client-store.js';
import { ContactBook } from './contacts.js';
import { signNextList } from './device-lists.js';
import { LinkError, LinkErrorReason, RequestError } from './errors.js';
import { Emitter } from './events.js';
import { loadIdentity, saveIdentity, type StoredIdentity } from './identity.js';
import { encodeLinkBundle } from './link-request.js';
import { Messenger, type SentMessage } from './messenger.js';
import { NewDeviceWatch } from './new-device-watch.js';
import { toSecurityLogEntry, toSecurityState, type SecurityLogEntry, type SecurityState } from './security.js';
import { makeInitialPreKeys, makeOneTimePreKeys, ONE_TIME_PREKEY_BATCH } from './prekeys.js';
import { SessionCache } from './session-cache.js';
import type { SocketFactory } from './socket.js';
import { Transport, type ConnectionState } from './transport.js';

/** How to reach the server and where to keep state. */
export interface ConnectOptions {
  /** The server's public origin, e.g. https://chat.example.org. */
  readonly origin: string;
  /** Its WebSocket URL, e.g. wss://chat.example.org/ws. */
  readonly url: string;
  readonly socketFactory: SocketFactory;
  readonly store: ClientStore;
  /** The clock; tests pass a fake one. */
  readonly now?: () => number;
  /** Send delivery receipts automatically (default true). */
  readonly deliveryReceipts?: boolean;
}

/** Creating an account on a primary device. */
export interface CreateAccountOptions extends ConnectOptions {
  readonly username: string;
  readonly deviceName?: string;
  readonly inviteCode?: string;
}

/** What the phone shows before "Confirm link". */
export interface LinkRequestDetails {
  readonly deviceName: string;
  readonly userAgent: string;
  readonly ipAddress: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** The companion is on the phone's network, as the server sees both (SPEC LINK-6). */
  readonly sameNetwork: boolean;
  /** "Keep me signed in" was unticked on the companion. */
  readonly temporary: boolean;
  /** Approving needs the two-step PIN. */
  readonly pinRequired: boolean;
}

/** A linked device as the phone's list shows it. */
export type DeviceSummary = Pick<
  DeviceInfo,
  'deviceId' | 'name' | 'linkedAt' | 'lastActiveAt' | 'online' | 'temporary' | 'userAgent' | 'network'
> & {
  readonly kind: 'primary' | 'companion';
  readonly isThisDevice: boolean;
};

/**
 * A device of a Pairwise account.
 *
 * @example
 * ```ts
 * const alice = await PairwiseClient.createAccount({ origin, url, socketFactory, store, username: 'alice' });
 * alice.on('message', (m) => console.log(m.chatId, m.text));
 * await alice.sendText('bob', 'Hello');
 * ```
 */
export class PairwiseClient extends Emitter<ClientEventMap> {
  private readonly transport: Transport;
  private readonly contacts: ContactBook;
  private readonly sessions: SessionCache;
  private readonly messenger: Messenger;
  private readonly deviceWatch: NewDeviceWatch<DeviceSummary>;
  private stopped = false;
  private state: ConnectionState = 'connecting';
  private securityState: SecurityState | null = null;
  private readonly now: () => number;

  private constructor(
    private readonly options: ConnectOptions,
    private readonly identity: StoredIdentity,
  ) {
    super();
    this.now = options.now ?? Date.now;
    this.contacts = new ContactBook(options.store, identity, this.now);
    this.sessions = new SessionCache(options.store);
    this.transport = new Transport({
      url: options.url,
      socketFactory: options.socketFactory,
      handshake: (challenge) => this.authenticate(challenge),
      onPush: (frame) => this.push(frame),
      onFinalClose: (code, reason) => {
        // Only "logged out" means this device no longer exists; an old app or a failed
        // authentication must never destroy the device's keys (SPEC REVOKE-3).
        if (code === CLOSE_LOGGED_OUT) void this.ended('removed');
        else {
          this.stopped = true;
          this.emit('auth-error', { code: code === CLOSE_UPDATE_REQUIRED ? 'UPDATE_REQUIRED' : 'AUTH_FAILED', message: reason });
        }
      },
      onState: (state) => {
        this.state = state;
        this.emit('connection', { state });
      },
      onHandshakeError: (error) => {
        if (error instanceof RequestError) this.emit('auth-error', { code: error.code, message: error.message });
      },
    });
    this.messenger = new Messenger({
      store: options.store,
      identity,
      transport: this.transport,
      contacts: this.contacts,
      sessions: this.sessions,
      now: this.now,
      emit: (event, value) => this.emit(event, value),
      deliveryReceipts: options.deliveryReceipts ?? true,
      isStopped: () => this.stopped,
    });
    this.deviceWatch = new NewDeviceWatch(options.store, () => this.devices(), (device) => this.emit('device-linked', device));
  }

  /** Creates an account with this device as its primary (the phone) and connects. */
  static async createAccount(options: CreateAccountOptions): Promise<PairwiseClient> {
    const { store } = options;
    const now = (options.now ?? Date.now)();
    const extractable = store.needsExtractableKeys;
    const [account, device] = await Promise.all([generateAccountIdentity({ extractable }), generateDeviceIdentity({ extractable })]);
    const deviceId = toHex(randomBytes(16));
    const list = await signDeviceList(account.privateKey, {
      accountId: options.username,
      version: 1,
      issuedAt: now,
      expiresAt: now + DEVICE_LIST_VALIDITY_MS,
      devices: [{ deviceId, kind: 'primary', identity: publicIdentity(device), linkedAt: now }],
    });
    const preKeys = await makeInitialPreKeys(store, device);
    // Registration happens on a connection of its own, before this device can authenticate.
    const registration = new Transport({
      url: options.url,
      socketFactory: options.socketFactory,
      handshake: () => Promise.resolve(),
      onPush: () => {},
      onFinalClose: () => {},
      reconnect: false,
    });
    registration.start();
    try {
      await registration.request({
        case: 'register',
        value: {
          username: options.username,
          accountKey: account.publicKey,
          deviceId,
          identity: { signingKey: device.signing.publicKey, agreementKey: device.agreement.publicKey },
          deviceList: list,
          preKeys,
          inviteCode: options.inviteCode ?? '',
          deviceName: options.deviceName ?? 'Phone',
          protocolVersion: PROTOCOL_VERSION,
        },
      });
    } finally {
      registration.stop();
    }
    const identity: StoredIdentity = {
      version: 1,
      origin: options.origin,
      accountId: options.username,
      deviceId,
      kind: 'primary',
      device,
      account,
      accountKey: account.publicKey,
    };
    await saveIdentity(store, identity);
    return PairwiseClient.start(options, identity);
  }

  /** Opens the device kept in `options.store`; `null` when the store holds none. */
  static async open(options: ConnectOptions): Promise<PairwiseClient | null> {
    const identity = await loadIdentity(options.store);
    if (identity === null) return null;
    return PairwiseClient.start(options, identity);
  }

  private static async start(options: ConnectOptions, identity: StoredIdentity): Promise<PairwiseClient> {
    const client = new PairwiseClient(options, identity);
    client.transport.start();
    await client.messenger.flushOutbox();
    return client;
  }

  get accountId(): string {
    return this.identity.accountId;
  }

  get deviceId(): string {
    return this.identity.deviceId;
  }

  get isPrimary(): boolean {
    return this.identity.kind === 'primary';
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  /** The account's security state as last reported (at each connection and on every change); null before the first. */
  get security(): SecurityState | null {
    return this.securityState;
  }

  /** Resolves once the connection is authenticated (immediately when it already is). */
  async ready(): Promise<void> {
    await this.transport.request({ case: 'ping', value: {} });
  }

  /** Sends a text message to an account (and copies it to this account's other devices). */
  sendText(to: string, text: string): Promise<SentMessage> {
    if (typeof text !== 'string' || text.length === 0) throw new TypeError('text must be a non-empty string');
    return this.messenger.send(to, { case: 'text', value: { body: text } });
  }

  /** Tells the sender (and our other devices) that these messages were read. */
  async markRead(chatId: string, messageIds: readonly string[]): Promise<void> {
    if (messageIds.length === 0) return;
    await this.messenger.send(chatId, { case: 'receipt', value: { type: 'read', messageIds: messageIds.map(fromHexId) } });
  }

  /** The safety number of this account and `accountId`, to compare in person. */
  async safetyNumber(accountId: string): Promise<SafetyNumber> {
    const contact = (await this.contacts.get(accountId)) ?? (await this.messenger.refreshAccount(accountId)).record;
    return computeSafetyNumber(
      { accountId: this.identity.accountId, identityKey: this.identity.accountKey },
      { accountId, identityKey: contact.accountKey },
    );
  }

  /** Asks the server for the account's security state now (any device). */
  async refreshSecurity(): Promise<SecurityState> {
    const result = await this.transport.request({ case: 'getSecurity', value: {} });
    if (result.case !== 'security') throw new Error('unexpected response to GetSecurity');
    return this.securityReported(toSecurityState(result.value), null);
  }

  /**
   * Turns two-step verification on (no `currentPin`) or changes the PIN (primary only). From then
   * on every link approval needs it. PINs are six digits.
   */
  async setPin(newPin: string, currentPin?: string): Promise<SecurityState> {
    if (!isPinFormat(newPin)) throw new TypeError('a two-step PIN is six digits');
    if (currentPin !== undefined && !isPinFormat(currentPin)) throw new TypeError('a two-step PIN is six digits');
    return this.securityRequest({ case: 'setPin', value: { newPin, currentPin: currentPin ?? '' } });
  }

  /** Turns two-step verification off (primary only); needs the current PIN. */
  disablePin(currentPin: string): Promise<SecurityState> {
    if (!isPinFormat(currentPin)) throw new TypeError('a two-step PIN is six digits');
    return this.securityRequest({ case: 'setPin', value: { newPin: '', currentPin } });
  }

  /** Answers the PIN reminder (primary only). A wrong PIN is a RequestError PIN_WRONG and counts as a wrong try. */
  verifyPin(pin: string): Promise<SecurityState> {
    if (!isPinFormat(pin)) throw new TypeError('a two-step PIN is six digits');
    return this.securityRequest({ case: 'verifyPin', value: { pin } });
  }

  /** Sets the expiry policies (primary only): inactive days 1, 7, 30 or 90; phone unused 14, 30 or 0 (never). */
  setPolicies(policies: { readonly inactiveDays: number; readonly phoneUnusedDays: number }): Promise<SecurityState> {
    return this.securityRequest({ case: 'setPolicies', value: { ...policies } });
  }

  /** The account's security log, newest first (primary only). */
  async securityLog(): Promise<SecurityLogEntry[]> {
    const result = await this.transport.request({ case: 'getSecurityLog', value: {} });
    if (result.case !== 'securityLog') throw new Error('unexpected response to GetSecurityLog');
    return result.value.events.map(toSecurityLogEntry);
  }

  private async securityRequest(request: Parameters<Transport['request']>[0]): Promise<SecurityState> {
    const result = await this.transport.request(request);
    if (result.case !== 'security') throw new Error(`unexpected response to ${String(request.case)}`);
    return this.securityReported(toSecurityState(result.value), null);
  }

  private securityReported(security: SecurityState, alert: string | null): SecurityState {
    this.securityState = security;
    this.emit('security', { security, alert });
    return security;
  }

  /** Every device of this account, for the linked-devices screen. */
  async devices(): Promise<DeviceSummary[]> {
    const result = await this.transport.request({ case: 'listDevices', value: {} });
    if (result.case !== 'devices') throw new Error('unexpected response to ListDevices');
    if (result.value.account) await this.messenger.applyReport(result.value.account);
    return result.value.devices.map((device) => ({
      deviceId: device.deviceId,
      kind: device.kind === 'primary' ? 'primary' : 'companion',
      name: device.name,
      linkedAt: device.linkedAt,
      lastActiveAt: device.lastActiveAt,
      online: device.online,
      temporary: device.temporary,
      userAgent: device.userAgent,
      network: device.network,
      isThisDevice: device.deviceId === this.identity.deviceId,
    }));
  }

  /**
   * Reads a scanned link code (primary only) and asks the server who is asking to be linked.
   * Refuses, before contacting anyone, codes that are not Pairwise link codes or that belong to
   * another server (SPEC LINK-5).
   */
  async inspectLink(qrText: string): Promise<{ details: LinkRequestDetails; approve: (pin?: string) => Promise<void> }> {
    if (!this.isPrimary) throw new LinkError(LinkErrorReason.NotPrimary, 'Only your phone can link devices.');
    const qr = decodeLinkQr(qrText);
    if (qr === null) throw new LinkError(LinkErrorReason.NotALinkCode, 'This is not a Pairwise link code.');
    if (qr.origin !== this.identity.origin) {
      throw new LinkError(
        LinkErrorReason.WrongOrigin,
        `This code is for ${qr.origin}, not your server ${this.identity.origin}. It may come from a copy of Pairwise made to steal your account.`,
      );
    }
    const result = await this.transport.request({ case: 'getLinkRequest', value: { token: qr.token } });
    if (result.case !== 'linkRequest') throw new Error('unexpected response to GetLinkRequest');
    const { deviceName, userAgent, ipAddress, createdAt, expiresAt, sameNetwork, temporary, pinRequired } = result.value;
    const details: LinkRequestDetails = { deviceName, userAgent, ipAddress, createdAt, expiresAt, sameNetwork, temporary, pinRequired };
    return { details, approve: (pin?: string) => this.approveLink(qr, pin ?? '') };
  }

  private async approveLink(qr: NonNullable<ReturnType<typeof decodeLinkQr>>, pin: string): Promise<void> {
    const identity = this.identity;
    const account = identity.account;
    if (account === null) throw new LinkError(LinkErrorReason.NotPrimary, 'Only your phone can link devices.');
    for (let attempt = 0; ; attempt++) {
      const own = (await this.messenger.refreshAccount(identity.accountId)).record;
      const now = this.now();
      const companion = {
        deviceId: qr.deviceId,
        kind: 'companion' as const,
        identity: { signingKey: qr.signingKey, agreementKey: qr.agreementKey },
        linkedAt: now,
      };
      const deviceList = await signNextList(identity, own, [...own.devices, companion], now);
      const deviceCertificate = await signDeviceCertificate(account.privateKey, {
        accountId: identity.accountId,
        deviceId: qr.deviceId,
        identity: companion.identity,
        issuedAt: now,
      });
      const bundle = encodeLinkBundle({
        accountId: identity.accountId,
        accountKey: identity.accountKey,
        deviceCertificate,
        deviceList,
        primaryDeviceId: identity.deviceId,
      });
      const sealedBundle = await sealLinkBundle(qr.ephemeralKey, { token: qr.token, origin: qr.origin }, bundle);
      try {
        await this.transport.request({ case: 'approveLink', value: { token: qr.token, deviceList, deviceCertificate, sealedBundle, pin } });
        await this.messenger.refreshAccount(identity.accountId);
        return;
      } catch (error) {
        // Another change to the list raced ours: rebuild on the new list, once.
        if (error instanceof RequestError && error.code === 'STALE_DEVICE_LIST' && attempt === 0) continue;
        throw error;
      }
    }
  }

  /** Removes a companion (primary only): its sockets close and it wipes itself. */
  async removeDevice(deviceId: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const own = (await this.messenger.refreshAccount(this.identity.accountId)).record;
      const deviceList = await signNextList(
        this.identity,
        own,
        own.devices.filter((device) => device.deviceId !== deviceId),
        this.now(),
      );
      try {
        await this.transport.request({ case: 'removeDevice', value: { deviceId, deviceList } });
        await this.messenger.refreshAccount(this.identity.accountId);
        return;
      } catch (error) {
        if (error instanceof RequestError && error.code === 'STALE_DEVICE_LIST' && attempt === 0) continue;
        throw error;
      }
    }
  }

  /** Removes every companion, one by one (primary only). */
  async removeAllCompanions(): Promise<void> {
    for (const device of await this.devices()) if (device.kind === 'companion') await this.removeDevice(device.deviceId);
  }

  /**
   * Logs this companion out: the server forgets it, and all its local data is wiped. Over HTTP
   * where `fetch` exists, so that the browser also gets `Clear-Site-Data` (SPEC REVOKE-4); over the
   * WebSocket otherwise, or if that request cannot be made.
   */
  async logOut(): Promise<void> {
    if (this.isPrimary) throw new TypeError('the primary device cannot log out; remove the account instead');
    try {
      if (!(await this.logOutOverHttp())) await this.transport.request({ case: 'logOut', value: {} });
    } finally {
      await this.ended('logged-out');
    }
  }

  private async logOutOverHttp(): Promise<boolean> {
    const fetchFn = (globalThis as { fetch?: HttpFetch }).fetch;
    if (fetchFn === undefined) return false;
    try {
      const challenge = (await (await fetchFn(`${this.identity.origin}/api/challenge`, { method: 'GET' })).json()) as { nonce?: unknown };
      const nonce = typeof challenge.nonce === 'string' ? fromBase64Url(challenge.nonce) : null;
      if (nonce === null) return false;
      const clientTime = this.now();
      const signature = await signDeviceChallenge(this.identity.device.signing.privateKey, {
        origin: this.identity.origin,
        nonce,
        accountId: this.identity.accountId,
        deviceId: this.identity.deviceId,
        clientTime,
        purpose: 'log-out',
      });
      const response = await fetchFn(`${this.identity.origin}/api/logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          accountId: this.identity.accountId,
          deviceId: this.identity.deviceId,
          clientTime,
          nonce: toBase64Url(nonce),
          signature: toBase64Url(signature),
        }),
      });
      return response.status === 204;
    } catch {
      return false;
    }
  }

  /** Closes the connection; the device stays linked and its store stays open (the caller owns it). */
  close(): Promise<void> {
    this.stopped = true;
    this.transport.stop();
    return Promise.resolve();
  }

  private async authenticate(challenge: Challenge): Promise<void> {
    const clientTime = this.now();
    const signature = await signDeviceChallenge(this.identity.device.signing.privateKey, {
      origin: this.identity.origin,
      nonce: challenge.nonce,
      accountId: this.identity.accountId,
      deviceId: this.identity.deviceId,
      clientTime,
    });
    const result = await this.transport.send({
      case: 'authenticate',
      value: {
        accountId: this.identity.accountId,
        deviceId: this.identity.deviceId,
        clientTime,
        signature,
        protocolVersion: PROTOCOL_VERSION,
      },
    });
    if (result.case === 'authenticated' && result.value.oneTimePreKeys < PREKEYS_LOW_THRESHOLD) void this.replenishPreKeys();
    if (result.case === 'authenticated' && result.value.security) this.securityReported(toSecurityState(result.value.security), null);
    // Devices linked while this one was offline are announced now (SPEC ALERT-1).
    void Promise.resolve().then(() => this.deviceWatch.check());
    // A companion may have left while the phone was offline: the list it signed still names it.
    if (this.isPrimary) void Promise.resolve().then(() => this.resignIfStale());
    // After the handshake completes (the transport marks itself ready), resend what the outbox holds.
    void Promise.resolve().then(() => this.messenger.flushOutbox());
  }

  private push(frame: ServerFrame): void {
    const body = frame.body;
    switch (body.case) {
      case 'deliver':
        void this.messenger.receive(body.value);
        return;
      case 'deviceListChanged':
        if (body.value.account) this.messenger.applyReport(body.value.account).catch(() => {});
        if (body.value.account?.accountId === this.identity.accountId) void this.deviceWatch.check();
        return;
      case 'securityChanged':
        if (body.value.security) this.securityReported(toSecurityState(body.value.security), body.value.alert || null);
        return;
      case 'preKeysLow':
        void this.replenishPreKeys();
        return;
      case 'deviceRemoved':
        // A companion left by itself: the primary re-signs the list without it.
        if (this.isPrimary) void this.resignOwnList();
        return;
      case 'loggedOut':
        void this.ended(body.value.reason || 'removed');
        return;
      case 'challenge':
      case 'linkApproved':
      case 'response':
      case undefined:
        // Handled by the transport, or not meant for a linked device.
        return;
    }
  }

  private replenishing = false;

  private async replenishPreKeys(): Promise<void> {
    if (this.replenishing) return;
    this.replenishing = true;
    try {
      const oneTimePreKeys = await makeOneTimePreKeys(this.options.store, ONE_TIME_PREKEY_BATCH);
      await this.transport.request({ case: 'uploadPreKeys', value: { preKeys: { oneTimePreKeys } } });
    } catch {
      // Retried at the next low-prekeys notice or connection.
    } finally {
      this.replenishing = false;
    }
  }

  private async resignIfStale(): Promise<void> {
    try {
      const own = (await this.messenger.refreshAccount(this.identity.accountId)).record;
      if (own.listedDeviceIds.length > own.devices.length) await this.resignOwnList();
    } catch {
      // Tried again at the next connection.
    }
  }

  private async resignOwnList(): Promise<void> {
    try {
      const own = (await this.messenger.refreshAccount(this.identity.accountId)).record;
      const deviceList = await signNextList(this.identity, own, own.devices, this.now());
      await this.transport.request({ case: 'updateDeviceList', value: { deviceList } });
    } catch {
      // Another change may have re-signed it already; the next change will.
    }
  }

  private endedOnce: Promise<void> | null = null;

  /** This device no longer exists: wipe everything it kept, then say so (SPEC REVOKE-3). */
  private ended(reason: string): Promise<void> {
    this.endedOnce ??= (async () => {
      this.stopped = true;
      this.transport.stop();
      try {
        await this.options.store.wipe();
      } catch {
        // Already wiped (another tab of this browser logged out first): nothing is left to remove.
      }
      this.emit('logged-out', { reason });
    })();
    return this.endedOnce;
  }
}

/** The part of `fetch` the log out uses (present in browsers and Node 20, absent from lib es2022). */
type HttpFetch = (
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: string },
) => Promise<{ status: number; json(): Promise<unknown> }>;

function fromHexId(id: string): Uint8Array {
  if (!/^[0-9a-f]{32}$/.test(id)) throw new TypeError('message ids are 32 hex digits');
  return Uint8Array.from(id.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
}
