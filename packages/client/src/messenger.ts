/**
 * Sending and receiving: client fan-out over one session per device, the outbox that survives
 * restarts, "devices changed" recovery, and the receive path that decrypts each message exactly
 * once and acknowledges it only after it is stored (SPEC INBOX-*, FANOUT-*).
 * @module
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { bytesEqual, randomBytes, toHex } from '@pairwise/crypto/bytes';
import type { DeviceListEntry } from '@pairwise/crypto/device-list';
import { parseSessionMessage, Session } from '@pairwise/crypto/session';
import type { ContentSchema } from '@pairwise/protocol/content';
import { CLIENT_MESSAGE_ID_BYTES } from '@pairwise/protocol/limits';
import type { AccountDevices, Deliver, Message } from '@pairwise/protocol/wire';
import { StoreTable, type ClientStore } from './client-store.js';
import type { ContactBook, ContactChange } from './contacts.js';
import { decodeContent, encodeContent } from './content.js';
import { ConnectionClosedError, RequestError, TimeoutError } from './errors.js';
import type { ClientEventMap } from './client-events.js';
import type { StoredIdentity } from './identity.js';
import { deleteOneTimePreKey, preKeySource } from './prekeys.js';
import type { SessionCache } from './session-cache.js';
import { HistoryLockedError } from './store-errors.js';
import type { Transport } from './transport.js';

/** What a send carries, before encryption. */
export type OutgoingBody = NonNullable<MessageInitShape<typeof ContentSchema>['body']>;

/** A message waiting for the server's acceptance; kept in the store until then. */
interface OutboxEntry {
  readonly version: 1;
  readonly clientMessageId: Uint8Array;
  readonly recipientAccountId: string;
  /** Encoded Content for the recipient's devices. */
  readonly forRecipient: Uint8Array;
  /** Encoded Content for our own other devices (with the chat named). */
  readonly forSelf: Uint8Array;
  readonly createdAt: number;
}

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
}

export class Messenger {
  private sendQueue: Promise<unknown> = Promise.resolve();
  private receiveQueue: Promise<unknown> = Promise.resolve();
  private readonly inFlight = new Set<string>();
  private flushAfterUnlock = false;

  constructor(private readonly deps: MessengerDeps) {}

  /** Encrypts `body` for the recipient's devices and our other devices, and sends it. */
  async send(recipientAccountId: string, body: OutgoingBody): Promise<SentMessage> {
    const { identity, store, now } = this.deps;
    const clientMessageId = randomBytes(CLIENT_MESSAGE_ID_BYTES);
    const sentAt = now();
    const entry: OutboxEntry = {
      version: 1,
      clientMessageId,
      recipientAccountId,
      forRecipient: encodeContent({ messageId: clientMessageId, sentAt, body }),
      forSelf: encodeContent({ messageId: clientMessageId, sentAt, body, syncChat: recipientAccountId }),
      createdAt: sentAt,
    };
    const key = outboxKey(entry);
    await store.put(StoreTable.Outbox, key, entry);
    if (body.case === 'text') {
      await this.storeMessage(recipientAccountId, toHex(clientMessageId), {
        outgoing: true,
        senderAccountId: identity.accountId,
        senderDeviceId: identity.deviceId,
        text: body.value.body ?? '',
        sentAt,
      });
    }
    return this.queueDelivery(key, entry);
  }

  /** Re-sends whatever the outbox holds (after a reconnect or a restart), in the order it was written. */
  async flushOutbox(): Promise<void> {
    let entries: [string, OutboxEntry][];
    try {
      entries = await this.deps.store.list<OutboxEntry>(StoreTable.Outbox);
    } catch (error) {
      if (!(error instanceof HistoryLockedError)) throw error;
      // The app lock holds the outbox sealed (SPEC LOCK-5): nothing is lost, it is sent once unlocked.
      if (!this.flushAfterUnlock) {
        this.flushAfterUnlock = true;
        void error.unlocked.then(() => {
          this.flushAfterUnlock = false;
          return this.flushOutbox();
        }).catch(() => {});
      }
      return;
    }
    for (const [key, entry] of entries) {
      if (!this.inFlight.has(key)) this.queueDelivery(key, entry).catch(() => {});
    }
  }

  /** Handles a Deliver push; pushes are processed one at a time, in order. */
  receive(deliver: Deliver): Promise<void> {
    const run = this.receiveQueue.then(() => this.process(deliver));
    this.receiveQueue = run.catch(() => {});
    return run;
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
    if (change.removedDeviceIds.length > 0) await this.deps.sessions.drop(report.accountId, change.removedDeviceIds);
    if (change.identityChanged) this.deps.emit('identity-changed', { accountId: report.accountId });
    if (change.addedDeviceIds.length > 0 || change.removedDeviceIds.length > 0) {
      this.deps.emit('devices-changed', {
        accountId: report.accountId,
        added: change.addedDeviceIds,
        removed: change.removedDeviceIds,
      });
    }
    return change;
  }

  private queueDelivery(key: string, entry: OutboxEntry): Promise<SentMessage> {
    this.inFlight.add(key);
    const run = this.sendQueue.then(() => this.deliverUntilAccepted(key, entry));
    this.sendQueue = run.catch(() => {});
    return run.finally(() => this.inFlight.delete(key));
  }

  private async deliverUntilAccepted(key: string, entry: OutboxEntry): Promise<SentMessage> {
    for (;;) {
      try {
        const serverTime = await this.deliverOnce(entry);
        await this.deps.store.delete(StoreTable.Outbox, key);
        const sent = { messageId: toHex(entry.clientMessageId), chatId: entry.recipientAccountId, serverTime };
        this.deps.emit('sent', sent);
        return sent;
      } catch (error) {
        // Lost connection: the transport waits for the next one; the same client message id
        // makes a repeat harmless (the server answers "duplicate").
        if ((error instanceof ConnectionClosedError || error instanceof TimeoutError) && !this.deps.isStopped()) continue;
        if (error instanceof RequestError) await this.deps.store.delete(StoreTable.Outbox, key);
        throw error;
      }
    }
  }

  private async deliverOnce(entry: OutboxEntry): Promise<number> {
    const { identity, transport, sessions } = this.deps;
    attempts: for (let attempt = 0; attempt < MAX_DEVICE_RETRIES; attempt++) {
      const targets = await this.targets(entry.recipientAccountId);
      // A note to self on an account with a single device: nobody else to send it to.
      if (targets.length === 0) return this.deps.now();
      // A device that has no bundle any more (it just left) makes us refresh and rebuild the targets.
      if (!(await this.startMissingSessions(targets))) continue;
      const envelopes = [];
      for (const target of targets) {
        const session = await sessions.active(target.accountId, target.device.deviceId);
        // A device-list notice may have removed this device meanwhile: start over with fresh targets.
        if (session === null) continue attempts;
        // Our own devices get the copy that names the chat (for a note to self, every copy does).
        const own = target.accountId === identity.accountId;
        const content = await session.encrypt(own ? entry.forSelf : entry.forRecipient);
        await sessions.save(target.accountId, target.device.deviceId);
        envelopes.push({ deviceId: target.device.deviceId, content });
      }
      try {
        const result = await transport.request({
          case: 'sendMessage',
          value: { clientMessageId: entry.clientMessageId, recipientAccountId: entry.recipientAccountId, envelopes },
        });
        if (result.case !== 'sendResult') throw new Error('unexpected response to SendMessage');
        return result.value.serverTime;
      } catch (error) {
        if (!(error instanceof RequestError) || error.code !== 'DEVICES_CHANGED') throw error;
        for (const report of error.accounts) await this.applyReport(report);
      }
    }
    throw new Error('the devices kept changing; try again');
  }

  /** Every device to encrypt to: the recipient's, and our own other devices. */
  private async targets(recipientAccountId: string): Promise<Target[]> {
    const { identity, contacts } = this.deps;
    const known = async (accountId: string) => (await contacts.get(accountId)) ?? (await this.refreshAccount(accountId)).record;
    const accounts = [...new Set([recipientAccountId, identity.accountId])];
    const records = await Promise.all(accounts.map(known));
    return records
      .flatMap((record) => record.devices.map((device) => ({ accountId: record.accountId, device })))
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
          { extractableKeys: store.needsExtractableKeys },
        );
        if (session) await sessions.promote(accountId, target.device.deviceId, session);
      }
    }
    for (const target of targets) {
      if ((await sessions.active(target.accountId, target.device.deviceId)) === null) return false;
    }
    return true;
  }

  private async process(deliver: Deliver): Promise<void> {
    const { transport, store, now, emit } = this.deps;
    const item = deliver.item;
    if (item.case === 'expired') {
      emit('message-expired', {
        messageId: toHex(item.value.clientMessageId),
        recipientAccountId: item.value.recipientAccountId,
        recipientDeviceId: item.value.recipientDeviceId,
      });
    } else if (item.case === 'message') {
      const message = item.value;
      const seenKey = `${message.senderDeviceId}/${toHex(message.clientMessageId)}`;
      if ((await store.get(StoreTable.Seen, seenKey)) === undefined) {
        const plaintext = await this.decrypt(message);
        const content = plaintext && decodeContent(plaintext);
        if (content && bytesEqual(content.messageId, message.clientMessageId)) await this.handleContent(message, content);
        else emit('decrypt-failed', { senderAccountId: message.senderAccountId, senderDeviceId: message.senderDeviceId });
        await store.put(StoreTable.Seen, seenKey, now());
      }
    }
    // Only now, with the message stored, may the server forget it (SPEC INBOX-4).
    transport.sendOneWay({ case: 'ackInbox', value: { seqs: [deliver.seq] } });
  }

  private async deviceEntry(accountId: string, deviceId: string): Promise<DeviceListEntry | null> {
    const find = (devices: readonly DeviceListEntry[] | undefined) => devices?.find((device) => device.deviceId === deviceId) ?? null;
    const known = find((await this.deps.contacts.get(accountId))?.devices);
    if (known) return known;
    try {
      return find((await this.refreshAccount(accountId)).record.devices);
    } catch {
      return null;
    }
  }

  private async decrypt(message: Message): Promise<Uint8Array | null> {
    const { sessions, store, identity } = this.deps;
    const sender = await this.deviceEntry(message.senderAccountId, message.senderDeviceId);
    if (sender === null) return null; // not on the account's signed list: never trusted
    let initiation;
    try {
      initiation = parseSessionMessage(message.content).initiation;
    } catch {
      return null;
    }
    const kept = await sessions.all(message.senderAccountId, message.senderDeviceId);
    if (initiation !== null) {
      const claimed = initiation.initiatorIdentity;
      if (!bytesEqual(claimed.signingKey, sender.identity.signingKey) || !bytesEqual(claimed.agreementKey, sender.identity.agreementKey)) {
        return null;
      }
      const same = kept.find((session) => session.acceptedBaseKey && bytesEqual(session.acceptedBaseKey, initiation.ephemeralKey));
      if (!same) {
        const accepted = await Session.accept(identity.device, preKeySource(store), message.content, {
          extractableKeys: store.needsExtractableKeys,
        });
        if (!accepted.ok) return null;
        await sessions.promote(message.senderAccountId, message.senderDeviceId, accepted.session);
        if (accepted.oneTimePreKeyId !== null) await deleteOneTimePreKey(store, accepted.oneTimePreKeyId);
        return accepted.plaintext;
      }
    }
    // A refused attempt leaves a session unchanged, so trying each kept session is safe.
    for (const session of kept) {
      const result = await session.decrypt(message.content);
      if (!result.ok) continue;
      await sessions.promote(message.senderAccountId, message.senderDeviceId, session);
      return result.plaintext;
    }
    return null;
  }

  private async handleContent(message: Message, content: NonNullable<ReturnType<typeof decodeContent>>): Promise<void> {
    const { identity, emit } = this.deps;
    const outgoing = message.senderAccountId === identity.accountId;
    const chatId = outgoing ? content.syncChat : message.senderAccountId;
    if (chatId === '') return;
    const messageId = toHex(content.messageId);
    const body = content.body;
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
      await this.storeMessage(chatId, messageId, received);
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

  private async storeMessage(chatId: string, messageId: string, value: object): Promise<void> {
    const sentAt = (value as { sentAt: number }).sentAt;
    await this.deps.store.put(StoreTable.Messages, `${chatId}/${String(sentAt).padStart(15, '0')}/${messageId}`, {
      chatId,
      messageId,
      ...value,
    });
  }
}

function outboxKey(entry: OutboxEntry): string {
  return `${String(entry.createdAt).padStart(15, '0')}/${toHex(entry.clientMessageId)}`;
}
