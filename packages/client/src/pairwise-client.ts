/**
 * The SDK's entry point: one object per device, for the web app, tests, benchmarks and a future
 * CLI alike. Keys and ratchets stay inside; the app sees accounts, chats, devices and events.
 *
 * A client holds its store's device lock for its whole life (SPEC DEVICE-1): a second client on
 * the same device is refused, or, asked to take over ("Use here"), the first one stops, lets the
 * device go and says so (`taken-over`). Everything the client does in the background is tracked,
 * so that closing waits for it and nothing of it escapes as an unhandled rejection.
 * @module
 */
import { randomBytes, toHex } from '@pairwise/crypto/bytes';
import { signDeviceAttestation } from '@pairwise/crypto/device-attestation';
import { signDeviceChallenge } from '@pairwise/crypto/device-auth';
import { signDeviceList } from '@pairwise/crypto/device-list';
import { generateAccountIdentity, generateDeviceIdentity, publicIdentity } from '@pairwise/crypto/keys';
import { CLOSE_LOGGED_OUT, CLOSE_UPDATE_REQUIRED } from '@pairwise/protocol/errors';
import { fromBase64Url, toBase64Url } from '@pairwise/protocol/base64url';
import { decodeLinkQr } from '@pairwise/protocol/link-qr';
import { DAY_MS, DEVICE_LIST_VALIDITY_MS, PQ_PREKEYS_LOW_THRESHOLD, PREKEYS_LOW_THRESHOLD } from '@pairwise/protocol/limits';
import { PROTOCOL_VERSION } from '@pairwise/protocol/version';
import { isPinFormat } from '@pairwise/protocol/pin-policy';
import type { Challenge, DeviceInfo, ServerFrame } from '@pairwise/protocol/wire';
import type { ClientEventMap } from './client-events.js';
import { StoreTable, type ClientStore } from './client-store.js';
import { ContactBook, type VerificationState } from './contacts.js';
import { fenced, type DeviceLock } from './device-lock.js';
import { ConnectionClosedError, LinkError, LinkErrorReason, RequestError } from './errors.js';
import { Emitter } from './events.js';
import { loadIdentity, saveIdentity, type StoredIdentity } from './identity.js';
import { Messenger, type SentMessage } from './messenger.js';
import { NewDeviceWatch } from './new-device-watch.js';
import type { PendingMessage } from './outbox.js';
import {
  acceptedPreKeys,
  duePreKeyRotation,
  makeInitialPreKeys,
  makeOneTimePreKeys,
  makePqOneTimePreKeys,
  ONE_TIME_PREKEY_BATCH,
  preKeysAccepted,
  PQ_ONE_TIME_PREKEY_BATCH,
  prunePreKeys,
  rotationUploaded,
  type PreKeyUpload,
} from './prekeys.js';
import { PrimaryDevices } from './primary-devices.js';
import { toSecurityLogEntry, toSecurityState, type SecurityLogEntry, type SecurityState } from './security.js';
import { SessionCache } from './session-cache.js';
import type { SocketFactory } from './socket.js';
import { after } from './timers.js';
import { Transport, type ConnectionState } from './transport.js';
import { Verifications, type SafetyNumberView, type ScanResult } from './verification.js';

/** Where the client's diagnostics go: counts and event names only, never content or keys. */
export interface ClientLogger {
  warn(event: string, fields: Readonly<Record<string, number | string>>): void;
}

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
  /**
   * Another client holds this device (another tab): ask it to let go and wait, instead of
   * failing with `DeviceInUseError` ("Use here", SPEC DEVICE-1).
   */
  readonly takeOver?: boolean;
  readonly logger?: ClientLogger;
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

/** Counts a client keeps of what it refused, for its log (SPEC RECEIVE-1). */
export interface ClientDiagnostics {
  /** Delivered rows that could not be decrypted or were refused, since the client started. */
  readonly refusedMessages: number;
  /** Background tasks that failed (and were dropped), since the client started. */
  readonly failedTasks: number;
}

/** When the seen-ids table was last pruned (meta table). */
const SEEN_PRUNED_AT = 'seen-pruned-at';
/**
 * For this long after a replenishment was accepted, "prekeys low" notices are taken as sent
 * before it (the server counted before our upload): another batch would only pass the limit.
 */
const STALE_LOW_NOTICE_MS = 60 * 1000;

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
/** The first retry of a maintenance step that failed; each further failure doubles it, up to a day. */
const MAINTENANCE_RETRY_MS = 5_000;

export class PairwiseClient extends Emitter<ClientEventMap> {
  private readonly transport: Transport;
  /** The store as this client may use it: refused once the device lock is let go. */
  private readonly store: ClientStore;
  private readonly contacts: ContactBook;
  private readonly sessions: SessionCache;
  private readonly messenger: Messenger;
  private readonly verifications: Verifications;
  private readonly primaryDevices: PrimaryDevices;
  private readonly deviceWatch: NewDeviceWatch<DeviceSummary>;
  private readonly tasks = new Set<Promise<unknown>>();
  private stopped = false;
  private holdsLock = true;
  private closing: Promise<void> | null = null;
  private cancelMaintenance: (() => void) | null = null;
  /** Maintenance runs in a row with a failed step, for the back-off of its retries. */
  private maintenanceFailures = 0;
  private state: ConnectionState = 'connecting';
  private securityState: SecurityState | null = null;
  private refused = 0;
  private failedTasks = 0;
  private readonly now: () => number;

  private constructor(
    private readonly options: ConnectOptions,
    private readonly identity: StoredIdentity,
    private readonly deviceLock: DeviceLock,
  ) {
    super();
    this.now = options.now ?? Date.now;
    this.store = fenced(options.store, () => this.holdsLock);
    this.contacts = new ContactBook(this.store, identity, this.now);
    this.sessions = new SessionCache(this.store);
    this.transport = new Transport({
      url: options.url,
      socketFactory: options.socketFactory,
      handshake: (challenge) => this.authenticate(challenge),
      onPush: (frame) => this.push(frame),
      onFinalClose: (code, reason) => {
        // Only "logged out" means this device no longer exists; an old app or a failed
        // authentication must never destroy the device's keys (SPEC REVOKE-3).
        if (code === CLOSE_LOGGED_OUT) this.detach(this.ended('removed'));
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
      store: this.store,
      identity,
      transport: this.transport,
      contacts: this.contacts,
      sessions: this.sessions,
      now: this.now,
      emit: (event, value) => this.emit(event, value),
      deliveryReceipts: options.deliveryReceipts ?? true,
      isStopped: () => this.stopped,
      onVerificationSync: (content) => this.verifications.applySync(content),
      countRefusal: () => this.countRefusal(),
    });
    this.verifications = new Verifications({
      identity,
      contacts: this.contacts,
      messenger: this.messenger,
      now: this.now,
      emit: (event, value) => this.emit(event, value),
    });
    this.primaryDevices = new PrimaryDevices({ identity, transport: this.transport, messenger: this.messenger, now: this.now });
    this.deviceWatch = new NewDeviceWatch(this.store, () => this.devices(), (device) => this.emit('device-linked', device));
    // "Use here" in another tab: stop, let the device go, and say so (SPEC DEVICE-1).
    this.detach(
      deviceLock.takeOverRequested.then(async () => {
        if (this.stopped) return;
        await this.close();
        this.emit('taken-over', {});
      }),
    );
  }

  /** Creates an account with this device as its primary (the phone) and connects. */
  static async createAccount(options: CreateAccountOptions): Promise<PairwiseClient> {
    const { store } = options;
    const lock = await store.acquireDeviceLock({ takeOver: options.takeOver ?? false });
    try {
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
      const attestation = await signDeviceAttestation(device.signing.privateKey, {
        accountId: options.username,
        accountKey: account.publicKey,
        deviceId,
        identity: publicIdentity(device),
      });
      const preKeys = await makeInitialPreKeys(store, device, now);
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
            identity: publicIdentity(device),
            deviceList: list,
            preKeys,
            inviteCode: options.inviteCode ?? '',
            deviceName: options.deviceName ?? 'Phone',
            protocolVersion: PROTOCOL_VERSION,
            attestation,
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
      return await PairwiseClient.start(options, identity, lock);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  /**
   * Opens the device kept in `options.store`; `null` when the store holds none. Rejects with
   * `DeviceInUseError` while another client (another tab) uses it, unless `takeOver` is set.
   */
  static async open(options: ConnectOptions): Promise<PairwiseClient | null> {
    const lock = await options.store.acquireDeviceLock({ takeOver: options.takeOver ?? false });
    try {
      const identity = await loadIdentity(options.store);
      if (identity === null) {
        await lock.release();
        return null;
      }
      return await PairwiseClient.start(options, identity, lock);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  private static async start(options: ConnectOptions, identity: StoredIdentity, lock: DeviceLock): Promise<PairwiseClient> {
    const client = new PairwiseClient(options, identity, lock);
    client.transport.start();
    try {
      await client.messenger.flushOutbox();
    } catch (error) {
      // A client that failed to start must not go on in the background: close it (which lets
      // the device go; the caller's release after that is harmless) and say why.
      await client.close();
      throw error;
    }
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

  /** What this client refused or dropped since it started (counts only). */
  get diagnostics(): ClientDiagnostics {
    return { refusedMessages: this.refused, failedTasks: this.failedTasks };
  }

  /** Resolves once the connection is authenticated (immediately when it already is). */
  async ready(): Promise<void> {
    await this.transport.request({ case: 'ping', value: {} });
  }

  /** Sends a text message to an account (and copies it to this account's other devices). */
  sendText(to: string, text: string): Promise<SentMessage> {
    if (typeof text !== 'string' || text.length === 0) throw new TypeError('text must be a non-empty string');
    return this.whileRunning(() => this.messenger.send(to, { case: 'text', value: { body: text } }));
  }

  /** Sends a message that failed again (SPEC SEND-1); a RangeError for one that is not waiting. */
  retry(messageId: string): Promise<SentMessage> {
    return this.whileRunning(() => this.messenger.retry(messageId));
  }

  /** Messages not accepted by the server yet: being sent, waiting, or failed (with why). */
  pendingMessages(): Promise<PendingMessage[]> {
    return this.messenger.pending();
  }

  /** Tells the sender (and our other devices) that these messages were read. */
  async markRead(chatId: string, messageIds: readonly string[]): Promise<void> {
    if (messageIds.length === 0) return;
    const ids = messageIds.map(fromHexId);
    await this.whileRunning(() => this.messenger.send(chatId, { case: 'receipt', value: { type: 'read', messageIds: ids } }));
  }

  /** The safety number of this account and `accountId`, its QR text, and whether it is verified (SPEC SAFETY-1, VERIFY-1). */
  safetyNumber(accountId: string): Promise<SafetyNumberView> {
    return this.verifications.safetyNumber(accountId);
  }

  /** Where this person stands with a contact's safety number: default, verified, or held after a change. */
  verificationOf(accountId: string): Promise<VerificationState> {
    return this.verifications.stateOf(accountId);
  }

  /** Compares a scanned safety-number code; a match marks the contact verified (SPEC VERIFY-1). */
  compareSafetyNumber(accountId: string, scannedText: string): Promise<ScanResult> {
    return this.whileRunning(() => this.verifications.scanned(accountId, scannedText));
  }

  /**
   * Marks the contact verified, here and on this account's other devices (SPEC VERIFY-4).
   * `shownDigits` are the digits the person compared (`SafetyNumberView.digits`): if the contact's
   * key changed since they were shown, it rejects with `SafetyNumberChangedError` and decides nothing.
   */
  markVerified(accountId: string, shownDigits: string): Promise<void> {
    return this.whileRunning(() => this.verifications.markVerified(accountId, shownDigits));
  }

  /** Clears the contact's verification, here and on this account's other devices. */
  clearVerification(accountId: string): Promise<void> {
    return this.whileRunning(() => this.verifications.clearVerification(accountId));
  }

  /** Sends the messages held since a verified contact's key changed, without verifying again (SPEC VERIFY-3). */
  sendAnyway(accountId: string): Promise<void> {
    return this.whileRunning(() => this.verifications.sendAnyway(accountId));
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
    return { details, approve: (pin?: string) => this.primaryDevices.approveLink(qr, pin ?? '') };
  }

  /** Removes a companion (primary only): its sockets close and it wipes itself. */
  removeDevice(deviceId: string): Promise<void> {
    return this.primaryDevices.removeDevice(deviceId);
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

  /**
   * Closes the connection, waits for the work in flight and lets the device go (another tab may
   * take it now). The device stays linked and its store stays open: the caller owns it.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stop();
      await this.settle();
      this.holdsLock = false;
      await this.deviceLock.release();
    })();
    return this.closing;
  }

  private stop(): void {
    this.stopped = true;
    this.cancelMaintenance?.();
    this.transport.stop();
    this.messenger.stop();
  }

  /** Waits for every send, delivery and background task handed over so far. */
  private async settle(): Promise<void> {
    await this.messenger.idle();
    await Promise.allSettled([...this.tasks]);
  }

  /** Runs `action` unless this client was closed (then a ConnectionClosedError, as for a lost connection). */
  private whileRunning<T>(action: () => Promise<T>): Promise<T> {
    if (this.stopped) return Promise.reject(new ConnectionClosedError('this client was closed'));
    return action();
  }

  /** Runs `task` in the background: tracked for `close`, and never an unhandled rejection. */
  private background(task: Promise<unknown>): void {
    const tracked = task.catch(() => {
      this.failedTasks += 1;
    });
    this.tasks.add(tracked);
    void tracked.finally(() => this.tasks.delete(tracked));
  }

  /**
   * Runs a task that ends the client (closing, wiping) without tracking it: those wait for the
   * tracked tasks, and must not wait for themselves. Never an unhandled rejection either.
   */
  private detach(task: Promise<unknown>): void {
    task.catch(() => {
      this.failedTasks += 1;
    });
  }

  private countRefusal(): void {
    this.refused += 1;
    this.options.logger?.warn('message-refused', { total: this.refused });
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
    // What the server had of this device's one-time prekeys before it counts them (SPEC PREKEYS-5).
    const accepted = await acceptedPreKeys(this.store);
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
    if (result.case !== 'authenticated') throw new Error('unexpected response to Authenticate');
    const authenticated = result.value;
    // Before anything else on this connection: until it attests, no one trusts this device (SPEC ATTEST-1).
    if (!authenticated.attested) await this.attest();
    if (authenticated.security) this.securityReported(toSecurityState(authenticated.security), null);
    // After the handshake completes (the transport marks itself ready).
    this.background(
      Promise.resolve().then(async () => {
        // Devices linked while this one was offline are announced now (SPEC ALERT-1).
        this.background(this.deviceWatch.check());
        this.background(this.replenishPreKeys(authenticated.oneTimePreKeys, authenticated.pqOneTimePreKeys));
        // One-time private keys the server handed out long ago go (SPEC PREKEYS-5).
        this.background(prunePreKeys(this.store, accepted, authenticated));
        this.background(this.maintain());
        // Sends waiting for a contact's device look again; then resend what the outbox holds.
        this.background(this.messenger.recheckWaiting());
        await this.messenger.flushOutbox();
      }),
    );
  }

  /** Sends this device's attestation of its account (on the handshake's socket, before it is ready). */
  private async attest(): Promise<void> {
    const { identity } = this;
    const signature = await signDeviceAttestation(identity.device.signing.privateKey, {
      accountId: identity.accountId,
      accountKey: identity.accountKey,
      deviceId: identity.deviceId,
      identity: publicIdentity(identity.device),
    });
    await this.transport.send({ case: 'attestDevice', value: { signature } });
  }

  /**
   * What a device keeps doing at every connection and once a day: rotate its signed prekeys
   * (SPEC PREKEYS-2), renew the account's list on the primary (SPEC DEVLIST-4), forget old seen
   * ids (SPEC SEEN-1).
   */
  private async maintain(): Promise<void> {
    this.cancelMaintenance?.();
    if (this.stopped) return;
    this.scheduleMaintenance(DAY_MS);
    // Each step on its own: a failed upload must not keep the list from being renewed.
    const steps = [
      async () => {
        const upload = await duePreKeyRotation(this.store, this.identity.device, this.now());
        if (upload === null) return;
        await this.uploadPreKeys(upload);
        await rotationUploaded(this.store);
      },
      async () => {
        if (this.isPrimary) await this.primaryDevices.maintain();
      },
      async () => {
        const prunedAt = (await this.store.get<number>(StoreTable.Meta, SEEN_PRUNED_AT)) ?? 0;
        if (this.now() - prunedAt < DAY_MS) return;
        await this.messenger.seen.prune(this.now());
        await this.store.put(StoreTable.Meta, SEEN_PRUNED_AT, this.now());
      },
    ];
    const failures = (await Promise.allSettled(steps.map((step) => step()))).filter((outcome) => outcome.status === 'rejected');
    if (failures.length === 0) {
      this.maintenanceFailures = 0;
      return;
    }
    // A step that failed (a busy server, a lost connection) is tried again soon, then less and
    // less often, not only at the next connection or in a day; counted as a failed background task.
    const retryMs = Math.min(DAY_MS, MAINTENANCE_RETRY_MS * 2 ** this.maintenanceFailures++);
    if (!this.stopped) this.scheduleMaintenance(retryMs);
    throw failures[0]!.reason;
  }

  private scheduleMaintenance(delayMs: number): void {
    this.cancelMaintenance?.();
    this.cancelMaintenance = after(delayMs, () => this.background(this.maintain()));
  }

  private push(frame: ServerFrame): void {
    const body = frame.body;
    switch (body.case) {
      case 'deliver':
        this.background(this.messenger.receive(body.value));
        return;
      case 'deviceListChanged':
        if (body.value.account) this.background(this.messenger.applyReport(body.value.account));
        if (body.value.account?.accountId === this.identity.accountId) this.background(this.deviceWatch.check());
        return;
      case 'securityChanged':
        if (body.value.security) this.securityReported(toSecurityState(body.value.security), body.value.alert || null);
        return;
      case 'preKeysLow':
        this.background(this.replenishPreKeys(body.value.remaining, body.value.pqRemaining));
        return;
      case 'deviceRemoved':
        // A companion left by itself: the primary re-signs the list without it.
        if (this.isPrimary) this.background(this.primaryDevices.resign());
        return;
      case 'loggedOut':
        this.detach(this.ended(body.value.reason || 'removed'));
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
  /** When a batch of each kind was last accepted: a "low" notice sent before it arrived is stale. */
  private readonly replenishedAt = { oneTime: -Infinity, pq: -Infinity };

  /** Uploads one-time prekeys of each kind that runs low (SPEC PREKEYS-1). */
  private async replenishPreKeys(oneTime: number, pqOneTime: number): Promise<void> {
    const fresh = (kind: 'oneTime' | 'pq') => this.now() - this.replenishedAt[kind] < STALE_LOW_NOTICE_MS;
    const needOneTime = oneTime < PREKEYS_LOW_THRESHOLD && !fresh('oneTime');
    const needPq = pqOneTime < PQ_PREKEYS_LOW_THRESHOLD && !fresh('pq');
    if (this.replenishing || (!needOneTime && !needPq)) return;
    this.replenishing = true;
    try {
      const oneTimePreKeys = needOneTime ? await makeOneTimePreKeys(this.store, ONE_TIME_PREKEY_BATCH) : [];
      const pqOneTimePreKeys = needPq ? await makePqOneTimePreKeys(this.store, this.identity.device, PQ_ONE_TIME_PREKEY_BATCH) : [];
      await this.uploadPreKeys({ oneTimePreKeys, pqOneTimePreKeys });
      if (needOneTime) this.replenishedAt.oneTime = this.now();
      if (needPq) this.replenishedAt.pq = this.now();
    } finally {
      // Retried at the next low-prekeys notice or connection.
      this.replenishing = false;
    }
  }

  /**
   * Uploads prekeys; the server's counts in its answer let the one-time private keys it handed
   * out long ago go (SPEC PREKEYS-5).
   */
  private async uploadPreKeys(preKeys: PreKeyUpload): Promise<void> {
    // Read before sending: the counts are measured against what the server had already accepted.
    const accepted = await acceptedPreKeys(this.store);
    const result = await this.transport.request({ case: 'uploadPreKeys', value: { preKeys } });
    await preKeysAccepted(this.store, preKeys, accepted, result.case === 'preKeyStatus' ? result.value : null);
  }

  private endedOnce: Promise<void> | null = null;

  /** This device no longer exists: wipe everything it kept, then say so (SPEC REVOKE-3). */
  private ended(reason: string): Promise<void> {
    this.endedOnce ??= (async () => {
      this.stop();
      await this.settle();
      try {
        // The store itself, not this client's fenced view: wiping is the last thing it does.
        await this.options.store.wipe();
      } catch {
        // Already wiped (another tab of this browser logged out first): nothing is left to remove.
      }
      this.holdsLock = false;
      await this.deviceLock.release();
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
