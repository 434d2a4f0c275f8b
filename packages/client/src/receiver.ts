/**
 * The receive path (SPEC INBOX-4, RECEIVE-*): each delivered row is handled once, in order, and
 * acknowledged only after it is stored. Nothing a peer or the server sends can throw out of here
 * or jam the inbox: a row that cannot be read, for whatever reason, is a refusal. It is recorded
 * as seen, shown as one notice per burst ("A message from <name> could not be decrypted"), counted
 * in the client's diagnostics, and acknowledged, so the rows behind it keep flowing.
 *
 * Only three things stop a row from being acknowledged: the connection going away while it is
 * handled (it comes again on the next one), the device's own store failing (the device is being
 * closed or wiped), and the server answering a request the row needs with "too many requests" or
 * "internal error". None records anything, so nothing is lost.
 * @module
 */
import { bytesEqual, toHex } from '@pairwise/crypto/bytes';
import type { DeviceListEntry } from '@pairwise/crypto/device-list';
import { parseSessionMessage, Session } from '@pairwise/crypto/session';
import type { Content } from '@pairwise/protocol/content';
import type { Deliver, Message } from '@pairwise/protocol/wire';
import type { ClientEventMap } from './client-events.js';
import type { ClientStore } from './client-store.js';
import { currentDevices, type ContactBook, type ContactChange } from './contacts.js';
import { decodeContent } from './content.js';
import { ConnectionClosedError, RequestError, TimeoutError } from './errors.js';
import type { MessageHistory } from './history.js';
import type { StoredIdentity } from './identity.js';
import { deleteUsedPreKeys, preKeySource } from './prekeys.js';
import type { SeenIds } from './seen-ids.js';
import type { SessionCache } from './session-cache.js';
import { HistoryLockedError, StoreClosedError } from './store-errors.js';

/** What the receiver needs from the rest of the client. */
export interface ReceiverDeps {
  readonly store: ClientStore;
  readonly identity: StoredIdentity;
  readonly contacts: ContactBook;
  readonly sessions: SessionCache;
  readonly history: MessageHistory;
  readonly seen: SeenIds;
  readonly now: () => number;
  readonly emit: <K extends keyof ClientEventMap>(event: K, value: ClientEventMap[K]) => void;
  /** Fetches and applies an account's devices (for a sender not known yet, or an expired list). */
  readonly refreshAccount: (accountId: string) => Promise<ContactChange>;
  /** Tells the server it may forget the row. */
  readonly acknowledge: (seq: number) => void;
  /** Handles a decrypted, checked content. */
  readonly handleContent: (message: Message, content: Content) => Promise<void>;
  /** Counts a refused row (the client's diagnostics). */
  readonly countRefusal: () => void;
}

/** A decrypted message whose session change is not stored yet. */
interface Opened {
  readonly plaintext: Uint8Array;
  /** For a message that started a session: the signed prekey it named (SPEC SEEN-1). */
  readonly signedPreKeyId: number | null;
  /** Stores the session change; called once the message itself is stored. */
  commit(): Promise<void>;
}

/** Server answers that say "not now", not "no": a request the row needed may work later. */
const TRANSIENT_CODES: ReadonlySet<string> = new Set(['RATE_LIMITED', 'INTERNAL']);

/**
 * Errors after which the row must come again: the connection or our own store went away, or
 * the server could not answer a request the row needed (a genuine message must not be refused
 * for being delivered while the server was busy).
 */
function mustRetry(error: unknown): boolean {
  return (
    error instanceof ConnectionClosedError ||
    error instanceof TimeoutError ||
    error instanceof StoreClosedError ||
    error instanceof HistoryLockedError ||
    (error instanceof RequestError && TRANSIENT_CODES.has(error.code))
  );
}

export class Receiver {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: ReceiverDeps) {}

  /** Handles a Deliver push; pushes are processed one at a time, in order. Never rejects. */
  receive(deliver: Deliver): Promise<void> {
    const run = this.queue.then(() => this.process(deliver));
    this.queue = run;
    return run;
  }

  /** Settles once every delivery handed over so far has been handled. */
  idle(): Promise<void> {
    return this.queue.then(() => undefined);
  }

  private async process(deliver: Deliver): Promise<void> {
    try {
      const item = deliver.item;
      if (item.case === 'expired') {
        this.deps.emit('message-expired', {
          messageId: toHex(item.value.clientMessageId),
          recipientAccountId: item.value.recipientAccountId,
          recipientDeviceId: item.value.recipientDeviceId,
        });
      } else if (item.case === 'message') {
        await this.message(item.value);
      }
    } catch (error) {
      if (mustRetry(error)) return;
      // Anything else is a fault of ours that a row triggered: counting it and moving on keeps
      // one bad row from holding back every row behind it.
      this.deps.countRefusal();
    }
    // Only now, with the message stored, may the server forget it (SPEC INBOX-4). A seq no server
    // of ours would send is not worth an acknowledgement the server would refuse.
    if (!Number.isSafeInteger(deliver.seq) || deliver.seq <= 0) return;
    try {
      this.deps.acknowledge(deliver.seq);
    } catch {
      // The socket is going: the row comes again on the next connection and is dropped as seen.
    }
  }

  private async message(message: Message): Promise<void> {
    const { seen, sessions, now } = this.deps;
    const seenKey = `${message.senderDeviceId}/${toHex(message.clientMessageId)}`;
    if (await seen.has(seenKey)) return;
    const sender = await this.sender(message.senderAccountId, message.senderDeviceId);
    if (sender === null) {
      await this.refused(message);
      await seen.add(seenKey, now());
      return;
    }
    const { senderAccountId: accountId, senderDeviceId: deviceId } = message;
    // Nothing else touches this device's sessions from decryption to commit (a send storing its
    // own step would store ours too, before our message is).
    await sessions.exclusive(accountId, deviceId, async () => {
      let opened: Opened | null = null;
      try {
        opened = await this.open(message, sender);
        await this.store(message, opened);
        // Seen before the session moves on: a crash in between drops the repeat as seen, where
        // the other order would meet a repeat the moved-on session can no longer decrypt.
        await seen.add(seenKey, now(), opened?.signedPreKeyId ?? null);
        // A message that decrypted moved its session on, whatever it said.
        await opened?.commit();
      } catch (error) {
        // Decrypted in memory, not committed: the repeat must meet the stored sessions.
        if (opened !== null) sessions.evict(accountId, deviceId);
        throw error;
      }
    });
  }

  /** Stores what `opened` says, or a refusal when it is not a genuine message of its sender. */
  private async store(message: Message, opened: Opened | null): Promise<void> {
    const content = opened === null ? null : decodeContent(opened.plaintext);
    // The content must say what the envelope says: the same message, the same sender (SPEC
    // CONTENT-1). A contact cannot pass a message off as someone else's, nor the server relabel one.
    const genuine =
      content !== null &&
      content.body.case !== undefined &&
      bytesEqual(content.messageId, message.clientMessageId) &&
      content.senderAccountId === message.senderAccountId &&
      content.senderDeviceId === message.senderDeviceId;
    if (!genuine) return this.refused(message);
    try {
      await this.deps.handleContent(message, content);
    } catch (error) {
      if (mustRetry(error)) throw error;
      // A content we cannot take (one that breaks a rule of ours further in) is a refusal too.
      return this.refused(message);
    }
    await this.deps.history.endBurst(this.chatOf(message), message.senderDeviceId);
  }

  private async refused(message: Message): Promise<void> {
    this.deps.countRefusal();
    const chatId = this.chatOf(message);
    const notice = await this.deps.history.undecryptable(chatId, message.senderAccountId, message.senderDeviceId, this.deps.now());
    this.deps.emit('decrypt-failed', {
      chatId,
      senderAccountId: message.senderAccountId,
      senderDeviceId: message.senderDeviceId,
      count: notice.count,
      notice,
    });
  }

  /** A message from our own account belongs to a chat it names inside; unread, it goes to our own. */
  private chatOf(message: Message): string {
    return message.senderAccountId;
  }

  /**
   * The sender's entry on its account's verified list, if it is a device we trust now: listed,
   * current, attested, and for an expired list only the primary (SPEC DEVICES-1, DEVLIST-3).
   * One refresh from the server for a device not known yet.
   */
  private async sender(accountId: string, deviceId: string): Promise<DeviceListEntry | null> {
    const { contacts, now } = this.deps;
    const find = (devices: readonly DeviceListEntry[]) => devices.find((device) => device.deviceId === deviceId) ?? null;
    const known = await contacts.get(accountId);
    const trusted = known === null ? null : find(currentDevices(known, now()));
    if (trusted !== null) return trusted;
    try {
      return find(currentDevices((await this.deps.refreshAccount(accountId)).record, now()));
    } catch (error) {
      if (mustRetry(error)) throw error;
      return null; // an unknown account, or a report that does not verify: nobody to trust
    }
  }

  /** Decrypts with a kept session or a new one; `null` for a refusal, of whatever kind. */
  private async open(message: Message, sender: DeviceListEntry): Promise<Opened | null> {
    try {
      return await this.decrypt(message, sender);
    } catch (error) {
      if (mustRetry(error)) throw error;
      return null;
    }
  }

  private async decrypt(message: Message, sender: DeviceListEntry): Promise<Opened | null> {
    const { sessions, store, identity } = this.deps;
    const { senderAccountId: accountId, senderDeviceId: deviceId } = message;
    const initiation = parseSessionMessage(message.content).initiation;
    const kept = await sessions.all(accountId, deviceId);
    const commit = () => sessions.save(accountId, deviceId);
    if (initiation !== null) {
      const claimed = initiation.initiatorIdentity;
      if (!bytesEqual(claimed.signingKey, sender.identity.signingKey) || !bytesEqual(claimed.agreementKey, sender.identity.agreementKey)) {
        return null;
      }
      const same = kept.find((session) => session.acceptedBaseKey && bytesEqual(session.acceptedBaseKey, initiation.ephemeralKey));
      if (!same) {
        const accepted = await Session.accept(
          identity.device,
          preKeySource(store),
          message.content,
          { local: { accountId: identity.accountId, deviceId: identity.deviceId }, remote: { accountId, deviceId } },
          { extractableKeys: store.needsExtractableKeys },
        );
        if (!accepted.ok) return null;
        await sessions.promote(accountId, deviceId, accepted.session, false);
        return {
          plaintext: accepted.plaintext,
          signedPreKeyId: accepted.used.signedPreKeyId,
          commit: async () => {
            await commit();
            await deleteUsedPreKeys(store, accepted.used);
          },
        };
      }
    }
    // A refused attempt leaves a session unchanged, so trying each kept session is safe.
    for (const session of kept) {
      const result = await session.decrypt(message.content);
      if (!result.ok) continue;
      await sessions.promote(accountId, deviceId, session, false);
      // A repeated initiation (the peer's first messages before our reply) is as replayable as the first.
      return { plaintext: result.plaintext, signedPreKeyId: initiation?.signedPreKeyId ?? null, commit };
    }
    return null;
  }
}
