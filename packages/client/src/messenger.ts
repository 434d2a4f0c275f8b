/**
 * Sending and receiving: client fan-out over one session per device, the outbox that survives
 * restarts, "devices changed" recovery, sends held for a verified contact whose key changed, and
 * the receive path (receiver.ts) that decrypts each message exactly once and acknowledges it
 * only after it is stored (SPEC INBOX-*, FANOUT-*, SEND-*, VERIFY-3).
 * @module
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { bytesEqual, randomBytes, toHex } from '@pairwise/crypto/bytes';
import type { DeviceListEntry } from '@pairwise/crypto/device-list';
import { Session } from '@pairwise/crypto/session';
import type { Content, ContentSchema } from '@pairwise/protocol/content';
import { CLIENT_MESSAGE_ID_BYTES } from '@pairwise/protocol/limits';
import type { AccountDevices, Deliver, Message } from '@pairwise/protocol/wire';
import type { ClientEventMap } from './client-events.js';
import type { ClientStore } from './client-store.js';
import { currentDevices, VerificationState, type ContactBook, type ContactChange, type ContactRecord } from './contacts.js';
import { decodeContent, encodeContent } from './content.js';
import { AckBatcher } from './ack-batcher.js';
import { ConnectionClosedError, DeviceListRejectedError, RequestError, SendFailedError, TimeoutError } from './errors.js';
import { MessageHistory } from './history.js';
import type { StoredIdentity } from './identity.js';
import { Outbox, type OutboxEntry, type PendingMessage, type SendFailure } from './outbox.js';
import { Receiver } from './receiver.js';
import { SeenIds } from './seen-ids.js';
import type { SessionCache } from './session-cache.js';
import { HistoryLockedError } from './store-errors.js';
import type { Transport } from './transport.js';

/** What a send carries, before encryption. */
export type OutgoingBody = NonNullable<MessageInitShape<typeof ContentSchema>['body']>;

/** A message the server accepted. */
export interface SentMessage {
  readonly messageId: string;
  readonly chatId: string;
  readonly serverTime: number;
}

interface Target {
  readonly accountId: string;
  readonly device: DeviceListEntry;
}

/** How many times a send is re-encrypted after "devices changed" before giving up. */
const MAX_DEVICE_RETRIES = 4;
/** An expired list is asked for again at most this often per account while it stays expired. */
const EXPIRED_LIST_REFRESH_MS = 60 * 1000;

/**
 * Why a send waits, outside the queue, instead of going: the recipient is a verified contact whose
 * key changed (for the person to decide, SPEC VERIFY-3), or no device of the recipient can receive
 * yet (none has attested, SPEC ATTEST-1: after a server upgrade, until the contact's app is
 * updated). Either way it goes as soon as that account's state changes: a decision, or a report of
 * its devices.
 */
type WaitReason = 'held' | 'no-device';

class WaitError extends Error {
  override readonly name = 'WaitError';
  constructor(readonly reason: WaitReason) {
    super(reason === 'held' ? "the contact's safety number changed" : 'no device of the contact can receive yet');
  }
}

export interface MessengerDeps {
  readonly store: ClientStore;
  readonly identity: StoredIdentity;
  readonly transport: Transport;
  readonly contacts: ContactBook;
  readonly sessions: SessionCache;
  readonly now: () => number;
  readonly emit: <K extends keyof ClientEventMap>(event: K, value: ClientEventMap[K]) => void;
  /** Send delivery receipts for received texts automatically. */
  readonly deliveryReceipts: boolean;
  readonly isStopped: () => boolean;
  /** A verification decision synced from another of our devices (SPEC VERIFY-4). */
  readonly onVerificationSync: (content: Content) => Promise<void>;
  /** Counts a refused row (the client's diagnostics). */
  readonly countRefusal: () => void;
}

export class Messenger {
  /** Acknowledgements of the inbox rows this device has stored, a batch per frame (SPEC LIMIT-2). */
  private readonly acks: AckBatcher;
  private sendQueue: Promise<unknown> = Promise.resolve();
  private readonly inFlight = new Set<string>();
  private flushAfterUnlock = false;
  /** Sends parked until something about their recipient changes (a hold lifted, a device ready), by recipient. */
  private readonly parked = new Map<string, (() => void)[]>();
  private readonly expiredRefreshAt = new Map<string, number>();
  readonly history: MessageHistory;
  private readonly outbox: Outbox;
  readonly seen: SeenIds;
  private readonly receiver: Receiver;

  constructor(private readonly deps: MessengerDeps) {
    this.acks = new AckBatcher((seqs) => deps.transport.sendOneWay({ case: 'ackInbox', value: { seqs } }));
    this.history = new MessageHistory(deps.store);
    this.outbox = new Outbox(deps.store, deps.identity);
    this.seen = new SeenIds(deps.store);
    this.receiver = new Receiver({
      store: deps.store,
      identity: deps.identity,
      contacts: deps.contacts,
      sessions: deps.sessions,
      history: this.history,
      seen: this.seen,
      now: deps.now,
      emit: deps.emit,
      refreshAccount: (accountId) => this.refreshAccount(accountId),
      acknowledge: (seq) => this.acks.add(seq),
      handleContent: (message, content) => this.handleContent(message, content),
      countRefusal: deps.countRefusal,
    });
  }

  /** Encrypts `body` for the recipient's devices and our other devices, and sends it. */
  async send(recipientAccountId: string, body: OutgoingBody): Promise<SentMessage> {
    const { identity, now } = this.deps;
    const clientMessageId = randomBytes(CLIENT_MESSAGE_ID_BYTES);
    const sentAt = now();
    const sender = { senderAccountId: identity.accountId, senderDeviceId: identity.deviceId };
    const entry: OutboxEntry = {
      version: 2,
      clientMessageId,
      recipientAccountId,
      forRecipient: encodeContent({ messageId: clientMessageId, sentAt, ...sender, body }),
      forSelf: encodeContent({ messageId: clientMessageId, sentAt, ...sender, body, syncChat: recipientAccountId }),
      createdAt: sentAt,
      failure: null,
    };
    const key = await this.outbox.put(entry);
    if (body.case === 'text') {
      await this.history.putText({
        chatId: recipientAccountId,
        messageId: toHex(clientMessageId),
        ...sender,
        text: body.value.body ?? '',
        sentAt,
        outgoing: true,
      });
    }
    return this.queueDelivery(key, entry);
  }

  /** Sends a failed message again, under the same client message id (SPEC SEND-1). */
  async retry(messageId: string): Promise<SentMessage> {
    const found = await this.outbox.find(messageId);
    if (found === null) throw new RangeError(`no unsent message ${messageId}`);
    const [key, entry] = found;
    if (this.inFlight.has(key)) throw new RangeError(`message ${messageId} is being sent`);
    const retried: OutboxEntry = { ...entry, failure: null };
    await this.outbox.put(retried);
    return this.queueDelivery(key, retried);
  }

  /** Messages not accepted by the server yet, with their failure if they failed. */
  async pending(): Promise<PendingMessage[]> {
    return (await this.outbox.list()).map(([, entry]) => ({
      messageId: toHex(entry.clientMessageId),
      chatId: entry.recipientAccountId,
      failure: entry.failure,
    }));
  }

  /** Re-sends whatever the outbox holds (after a reconnect or a restart), in the order it was written. */
  async flushOutbox(): Promise<void> {
    let entries: [string, OutboxEntry][];
    try {
      entries = await this.outbox.list();
    } catch (error) {
      if (!(error instanceof HistoryLockedError)) throw error;
      // The app lock holds the outbox sealed (SPEC LOCK-5): nothing is lost, it is sent once unlocked.
      if (!this.flushAfterUnlock) {
        this.flushAfterUnlock = true;
        void error.unlocked
          .then(() => {
            this.flushAfterUnlock = false;
            return this.flushOutbox();
          })
          .catch(() => {});
      }
      return;
    }
    for (const [key, entry] of entries) {
      if (entry.failure === null && !this.inFlight.has(key)) this.queueDelivery(key, entry).catch(() => {});
    }
  }

  /** Handles a Deliver push; pushes are processed one at a time, in order. Never rejects. */
  receive(deliver: Deliver): Promise<void> {
    return this.receiver.receive(deliver);
  }

  /** Settles once the sends and deliveries handed over so far are done (or waiting for a hold). */
  async idle(): Promise<void> {
    await Promise.all([this.sendQueue, this.receiver.idle()]);
  }

  /**
   * Asks again for the devices of every account a send waits for (at each connection: a push
   * made while this device was offline is not repeated). A report releases what it unblocks.
   */
  async recheckWaiting(): Promise<void> {
    for (const accountId of [...this.parked.keys()]) {
      try {
        await this.refreshAccount(accountId);
      } catch (error) {
        // Refused (the account is gone, its report does not verify): the sends go back in line,
        // where the same refusal fails them for "Retry" (SEND-1). Offline again: they keep waiting.
        if (error instanceof RequestError || error instanceof DeviceListRejectedError) this.released(accountId);
      }
    }
  }

  /**
   * Something about `accountId` changed (a decision about its safety number, a report of its
   * devices): sends parked for it look again, and go if nothing holds them any more.
   */
  released(accountId: string): void {
    const waiting = this.parked.get(accountId) ?? [];
    this.parked.delete(accountId);
    for (const resume of waiting) resume();
  }

  /** Fails every parked send: the client is closing (their entries stay in the outbox). */
  stop(): void {
    for (const accountId of [...this.parked.keys()]) this.released(accountId);
  }

  /** Fetches an account's devices from the server and applies them. */
  async refreshAccount(accountId: string): Promise<ContactChange> {
    const result = await this.deps.transport.request({ case: 'getAccountDevices', value: { accountId } });
    if (result.case !== 'accountDevices') throw new Error('unexpected response to GetAccountDevices');
    return this.applyReport(result.value);
  }

  /** Applies a server report of an account's devices: verifies, records, forgets departed devices. */
  async applyReport(report: AccountDevices): Promise<ContactChange> {
    const change = await this.deps.contacts.apply(report);
    const { emit } = this.deps;
    if (change.removedDeviceIds.length > 0) await this.deps.sessions.drop(report.accountId, change.removedDeviceIds);
    if (change.identityChanged) {
      const notice = await this.history.safetyNumberChanged(report.accountId, this.deps.now());
      emit('identity-changed', { accountId: report.accountId, notice });
      emit('verification-changed', { accountId: report.accountId, state: change.record.verification.state });
    }
    if (change.addedDeviceIds.length > 0 || change.removedDeviceIds.length > 0) {
      emit('devices-changed', { accountId: report.accountId, added: change.addedDeviceIds, removed: change.removedDeviceIds });
    }
    // A send waiting for one of its devices goes once one is ready (not at every report: each
    // waiting send's own refresh would otherwise wake the others, round after round).
    if (this.parked.has(report.accountId) && this.waitsFor(change.record) === null) this.released(report.accountId);
    return change;
  }

  private queueDelivery(key: string, entry: OutboxEntry): Promise<SentMessage> {
    this.inFlight.add(key);
    const attempt = async (): Promise<SentMessage> => {
      const run = this.sendQueue.then(() => this.deliverUntilAccepted(key, entry));
      this.sendQueue = run.catch(() => {});
      try {
        return await run;
      } catch (error) {
        if (!(error instanceof WaitError)) throw error;
        // Parked outside the queue, so that other chats keep flowing; back in line once lifted.
        const recipient = entry.recipientAccountId;
        await new Promise<void>((resume) => {
          this.parked.set(recipient, [...(this.parked.get(recipient) ?? []), resume]);
          // The account may have changed between the refusal and this line: look again.
          this.contactWaits(recipient).then(
            (reason) => reason === null && resume(),
            () => resume(),
          );
        });
        if (this.deps.isStopped()) throw new ConnectionClosedError('the client closed');
        return attempt();
      }
    };
    return attempt().finally(() => this.inFlight.delete(key));
  }

  private async deliverUntilAccepted(key: string, entry: OutboxEntry): Promise<SentMessage> {
    for (;;) {
      try {
        const serverTime = await this.deliverOnce(entry);
        await this.outbox.delete(key);
        const sent = { messageId: toHex(entry.clientMessageId), chatId: entry.recipientAccountId, serverTime };
        this.deps.emit('sent', sent);
        return sent;
      } catch (error) {
        if (error instanceof WaitError) throw error;
        // Lost connection: the transport waits for the next one; the same client message id
        // makes a repeat harmless (the server answers "duplicate").
        if (error instanceof ConnectionClosedError || error instanceof TimeoutError) {
          if (this.deps.isStopped()) throw error;
          continue;
        }
        const failure = await this.failed(key, entry, error);
        throw new SendFailedError(toHex(entry.clientMessageId), entry.recipientAccountId, failure.code, failure.message, { cause: error });
      }
    }
  }

  /** What a refused send says to the person who wrote it: the server's words name no one. */
  private async failureMessage(recipientAccountId: string, error: unknown): Promise<string> {
    if (!(error instanceof RequestError) || error.code !== 'INBOX_FULL') return error instanceof Error ? error.message : String(error);
    const full = new Set(error.deviceIds);
    const own = this.deps.identity.accountId;
    const kindsOf = async (accountId: string) =>
      ((await this.deps.contacts.get(accountId))?.devices ?? []).filter((device) => full.has(device.deviceId)).map((device) => device.kind);
    // The recipient's devices first: that is whom the person wrote to. A device neither side knows
    // of (a report not seen yet) is taken for the recipient's phone.
    const theirs = recipientAccountId === own ? [] : await kindsOf(recipientAccountId);
    const ours = await kindsOf(own);
    if (theirs.length === 0 && ours.length > 0) return inboxFullMessage(recipientAccountId, { own: true, primary: ours.includes('primary') });
    return inboxFullMessage(recipientAccountId, { own: false, primary: theirs.length === 0 || theirs.includes('primary') });
  }

  /** A send that waiting will not cure: kept, marked failed, for "Retry" (SPEC SEND-1). */
  private async failed(key: string, entry: OutboxEntry, error: unknown): Promise<SendFailure> {
    const failure: SendFailure = {
      code: error instanceof RequestError ? error.code : 'UNKNOWN',
      message: await this.failureMessage(entry.recipientAccountId, error),
      at: this.deps.now(),
    };
    try {
      // Only a text waits for "Retry"; a refused receipt or verification note is not worth keeping.
      if (decodeContent(entry.forRecipient)?.body.case === 'text') await this.outbox.fail(key, entry, failure);
      else await this.outbox.delete(key);
    } catch {
      // The store is closing: the entry stays as it was and is tried again at the next start.
      return failure;
    }
    this.deps.emit('send-failed', { messageId: toHex(entry.clientMessageId), chatId: entry.recipientAccountId, ...failure });
    return failure;
  }

  private async deliverOnce(entry: OutboxEntry): Promise<number> {
    const { identity, transport, sessions } = this.deps;
    attempts: for (let attempt = 0; attempt < MAX_DEVICE_RETRIES; attempt++) {
      const records = await this.records(entry.recipientAccountId);
      const recipient = records.find((record) => record.accountId === entry.recipientAccountId);
      const reason = recipient === undefined ? null : this.waitsFor(recipient);
      if (reason === 'held') throw new WaitError(reason);
      // Knowing of no device of the contact, we send no copy at all: the server's answer says
      // whether it agrees, and makes us its contact so that we hear when one attests (FANOUT-1).
      const targets = reason === 'no-device' ? [] : this.targets(records);
      // A note to self on an account with a single device: nobody else to send it to.
      if (targets.length === 0 && entry.recipientAccountId === identity.accountId) return this.deps.now();
      // A device that has no bundle any more (it just left) makes us refresh and rebuild the targets.
      if (!(await this.startMissingSessions(targets))) continue;
      const envelopes = [];
      for (const target of targets) {
        const { accountId, device } = target;
        // Our own devices get the copy that names the chat (for a note to self, every copy does).
        const plaintext = accountId === identity.accountId ? entry.forSelf : entry.forRecipient;
        const content = await sessions.exclusive(accountId, device.deviceId, async () => {
          const session = await sessions.active(accountId, device.deviceId);
          // Stored once the session has moved past the key and before the key is used: however
          // this device stops, a restored session never encrypts under that key again (RATCHET-7).
          return session && session.encrypt(plaintext, () => sessions.save(accountId, device.deviceId));
        });
        // A device-list notice may have removed this device meanwhile: start over with fresh targets.
        if (content === null) continue attempts;
        envelopes.push({ deviceId: device.deviceId, content });
      }
      try {
        const result = await transport.request({
          case: 'sendMessage',
          value: { clientMessageId: entry.clientMessageId, recipientAccountId: entry.recipientAccountId, envelopes },
        });
        if (result.case !== 'sendResult') throw new Error('unexpected response to SendMessage');
        return result.value.serverTime;
      } catch (error) {
        if (!(error instanceof RequestError)) throw error;
        if (error.code === 'DEVICES_CHANGED') {
          for (const report of error.accounts) await this.applyReport(report);
        } else if (error.code === 'RECIPIENT_UNAVAILABLE') {
          // No device of the contact can receive yet: wait for one, unless a fresh report shows one.
          const { record } = await this.refreshAccount(entry.recipientAccountId);
          if (this.waitsFor(record) === 'no-device') throw new WaitError('no-device');
        } else {
          throw error;
        }
      }
    }
    throw new Error('the devices kept changing; try again');
  }

  /** Why a send to this contact must wait now, or `null`; our own account never waits. */
  private waitsFor(record: ContactRecord): WaitReason | null {
    if (record.accountId === this.deps.identity.accountId) return null;
    if (record.verification.state === VerificationState.Held) return 'held';
    if (currentDevices(record, this.deps.now()).length === 0) return 'no-device';
    return null;
  }

  /** `waitsFor` of what is stored about `accountId` now. */
  private async contactWaits(accountId: string): Promise<WaitReason | null> {
    const record = await this.deps.contacts.get(accountId);
    return record === null ? null : this.waitsFor(record);
  }

  /**
   * What we know of the recipient's account and our own, fetched when unknown and asked again
   * (at most once a minute) when the list has expired: a fresher one may exist.
   */
  private async records(recipientAccountId: string): Promise<ContactRecord[]> {
    const { identity, contacts, now } = this.deps;
    const accounts = [...new Set([recipientAccountId, identity.accountId])];
    return Promise.all(
      accounts.map(async (accountId) => {
        const known = await contacts.get(accountId);
        if (known === null) return (await this.refreshAccount(accountId)).record;
        if (known.listExpiresAt > now() || now() - (this.expiredRefreshAt.get(accountId) ?? 0) < EXPIRED_LIST_REFRESH_MS) return known;
        this.expiredRefreshAt.set(accountId, now());
        return (await this.refreshAccount(accountId)).record;
      }),
    );
  }

  /** Every device to encrypt to: the recipient's, and our own other devices (SPEC DEVICES-1, DEVLIST-3). */
  private targets(records: readonly ContactRecord[]): Target[] {
    const { identity, now } = this.deps;
    return records
      .flatMap((record) => currentDevices(record, now()).map((device) => ({ accountId: record.accountId, device })))
      .filter((target) => !(target.accountId === identity.accountId && target.device.deviceId === identity.deviceId));
  }

  /**
   * Fetches bundles only for devices we have no session with, and starts those sessions.
   * Returns false when some device could not be reached; the fresh device report that came with
   * the bundles has been applied by then, so the caller rebuilds its targets.
   */
  private async startMissingSessions(targets: readonly Target[]): Promise<boolean> {
    const { transport, sessions, identity, store } = this.deps;
    const missing = new Map<string, Target[]>();
    for (const target of targets) {
      if ((await sessions.active(target.accountId, target.device.deviceId)) !== null) continue;
      missing.set(target.accountId, [...(missing.get(target.accountId) ?? []), target]);
    }
    for (const [accountId, wanted] of missing) {
      const result = await transport.request({
        case: 'fetchBundles',
        value: { accountId, deviceIds: wanted.map((target) => target.device.deviceId) },
      });
      if (result.case !== 'bundles') throw new Error('unexpected response to FetchBundles');
      if (result.value.account) await this.applyReport(result.value.account);
      for (const target of wanted) {
        const bundle = result.value.bundles.find((candidate) => candidate.deviceId === target.device.deviceId);
        // The bundle's identity must be the one the signed list names: the server cannot swap keys.
        if (
          !bundle?.identity ||
          !bundle.signedPreKey ||
          !bundle.pqPreKey ||
          !bytesEqual(bundle.identity.signingKey, target.device.identity.signingKey) ||
          !bytesEqual(bundle.identity.agreementKey, target.device.identity.agreementKey)
        ) {
          continue;
        }
        const session = await Session.initiate(
          identity.device,
          {
            identity: target.device.identity,
            signedPreKey: bundle.signedPreKey,
            pqPreKey: bundle.pqPreKey,
            oneTimePreKey: bundle.oneTimePreKey ?? null,
          },
          { local: { accountId: identity.accountId, deviceId: identity.deviceId }, remote: { accountId, deviceId: target.device.deviceId } },
          { extractableKeys: store.needsExtractableKeys },
        );
        if (session) await sessions.exclusive(accountId, target.device.deviceId, () => sessions.promote(accountId, target.device.deviceId, session));
      }
    }
    for (const target of targets) {
      if ((await sessions.active(target.accountId, target.device.deviceId)) === null) return false;
    }
    return true;
  }

  private async handleContent(message: Message, content: Content): Promise<void> {
    const { identity, emit } = this.deps;
    const outgoing = message.senderAccountId === identity.accountId;
    const body = content.body;
    if (body.case === 'verification') {
      // Only our own devices speak for this person's decisions.
      if (outgoing) await this.deps.onVerificationSync(content);
      return;
    }
    const chatId = outgoing ? content.syncChat : message.senderAccountId;
    if (chatId === '') return;
    const messageId = toHex(content.messageId);
    if (body.case === 'text') {
      const received = {
        chatId,
        messageId,
        senderAccountId: message.senderAccountId,
        senderDeviceId: message.senderDeviceId,
        text: body.value.body,
        sentAt: content.sentAt,
        outgoing,
      };
      await this.history.putText(received);
      emit('message', received);
      if (!outgoing && this.deps.deliveryReceipts) {
        this.send(message.senderAccountId, { case: 'receipt', value: { type: 'delivered', messageIds: [content.messageId] } }).catch(() => {});
      }
    } else if (body.case === 'receipt' && (body.value.type === 'delivered' || body.value.type === 'read')) {
      emit('receipt', {
        chatId,
        type: body.value.type,
        messageIds: body.value.messageIds.map(toHex),
        fromAccountId: message.senderAccountId,
        fromDeviceId: message.senderDeviceId,
      });
    }
  }
}

/** Whose device a full inbox is, as INBOX_FULL's message names it (SPEC LIMIT-3). */
export function inboxFullMessage(recipientAccountId: string, full: { readonly own: boolean; readonly primary: boolean }): string {
  if (!full.own) {
    return full.primary
      ? `${recipientAccountId}'s phone has too many undelivered messages; try again once they have been delivered`
      : `one of ${recipientAccountId}'s linked devices has too many undelivered messages; try again once it has caught up`;
  }
  return full.primary
    ? 'your phone has too many undelivered messages; open Pairwise on it to catch up'
    : 'one of your linked devices has too many undelivered messages; open it to catch up, or log it out on your phone';
}
