/**
 * Safety numbers and what the person decides about them (SPEC VERIFY-*): compare the 60 digits
 * or scan the other phone's code, mark a contact verified or clear it, and after a verified
 * contact's key changed, verify again or "Send anyway". Every decision is synced, end-to-end
 * encrypted, to this person's other devices (a note to self), so that the phone and every
 * computer agree; between them the latest decision wins.
 * @module
 */
import { bytesEqual } from '@pairwise/crypto/bytes';
import { computeSafetyNumber, safetyNumberQrMatches, type SafetyNumber } from '@pairwise/crypto/safety-number';
import { fromBase64Url, toBase64Url } from '@pairwise/protocol/base64url';
import type { Content } from '@pairwise/protocol/content';
import type { ClientEventMap } from './client-events.js';
import { VerificationState, type ContactBook, type ContactRecord } from './contacts.js';
import { SafetyNumberChangedError } from './errors.js';
import type { StoredIdentity } from './identity.js';
import type { Messenger } from './messenger.js';

/** What a safety number's QR code says: this prefix, then the payload in base64url. */
export const SAFETY_QR_PREFIX = 'pairwise-safety:1:';

/** A contact's safety number and where the person stands with it. */
export interface SafetyNumberView extends SafetyNumber {
  /** The text to show as a QR code for the other person to scan. */
  readonly qrText: string;
  readonly state: VerificationState;
}

/** The outcome of scanning the other person's code. */
export type ScanResult = 'verified' | 'mismatch' | 'not-a-safety-number';

export interface VerificationDeps {
  readonly identity: StoredIdentity;
  readonly contacts: ContactBook;
  readonly messenger: Messenger;
  readonly now: () => number;
  readonly emit: <K extends keyof ClientEventMap>(event: K, value: ClientEventMap[K]) => void;
}

export class Verifications {
  constructor(private readonly deps: VerificationDeps) {}

  /** The safety number with `accountId`, its QR text, and the current state. */
  async safetyNumber(accountId: string): Promise<SafetyNumberView> {
    return this.view(await this.contact(accountId));
  }

  private async view(contact: ContactRecord): Promise<SafetyNumberView> {
    const number = await computeSafetyNumber(
      { accountId: this.deps.identity.accountId, identityKey: this.deps.identity.accountKey },
      { accountId: contact.accountId, identityKey: contact.accountKey },
    );
    return { ...number, qrText: SAFETY_QR_PREFIX + toBase64Url(number.qrPayload), state: contact.verification.state };
  }

  /** Where the person stands with `accountId` (default for an account not known yet). */
  async stateOf(accountId: string): Promise<VerificationState> {
    return (await this.deps.contacts.get(accountId))?.verification.state ?? VerificationState.Default;
  }

  /** Compares a scanned code with ours; a match marks the contact verified (SPEC VERIFY-1). */
  async scanned(accountId: string, text: string): Promise<ScanResult> {
    if (typeof text !== 'string' || !text.startsWith(SAFETY_QR_PREFIX)) return 'not-a-safety-number';
    const payload = fromBase64Url(text.slice(SAFETY_QR_PREFIX.length));
    if (payload === null) return 'not-a-safety-number';
    // The decision is about the very key the code was compared with.
    const contact = await this.contact(accountId);
    if (!safetyNumberQrMatches(await this.view(contact), payload)) return 'mismatch';
    await this.decide(contact, VerificationState.Verified);
    return 'verified';
  }

  /**
   * Marks the contact's key verified: the key whose safety number is `shownDigits`, the 60 digits
   * the person compared. If they are no longer the contact's (the key changed meanwhile), nothing
   * is decided and `SafetyNumberChangedError` says so.
   */
  async markVerified(accountId: string, shownDigits: string): Promise<void> {
    const contact = await this.contact(accountId);
    if ((await this.view(contact)).digits !== shownDigits) throw new SafetyNumberChangedError(accountId);
    await this.decide(contact, VerificationState.Verified);
  }

  /** Clears the verification (the contact is treated as never compared). */
  async clearVerification(accountId: string): Promise<void> {
    await this.decide(await this.contact(accountId), VerificationState.Default);
  }

  /** After a verified contact's key changed: send the held messages without verifying again. */
  async sendAnyway(accountId: string): Promise<void> {
    const contact = await this.contact(accountId);
    if (contact.verification.state !== VerificationState.Held) return;
    await this.decide(contact, VerificationState.Default);
  }

  /** A decision synced from another of our devices (a note to self, SPEC VERIFY-4). */
  async applySync(content: Content): Promise<void> {
    if (content.body.case !== 'verification') return;
    const { accountId, accountKey, state, decidedAt } = content.body.value;
    if (state !== VerificationState.Verified && state !== VerificationState.Default) return;
    if (accountId === this.deps.identity.accountId || !Number.isFinite(decidedAt)) return;
    let contact = await this.deps.contacts.get(accountId);
    // The other device may know of a key change this one has not heard of yet: ask the server.
    if (contact === null || !sameKey(contact, accountKey)) contact = (await this.deps.messenger.refreshAccount(accountId)).record;
    if (!sameKey(contact, accountKey) || decidedAt <= contact.verification.decidedAt) return;
    await this.record(accountId, state, accountKey, decidedAt);
  }

  /** Decides about `contact`'s key as read; if it changed since, a verification is refused. */
  private async decide(contact: ContactRecord, state: VerificationState): Promise<void> {
    const { accountId } = contact;
    const decidedAt = Math.max(this.deps.now(), contact.verification.decidedAt + 1);
    if (!(await this.record(accountId, state, contact.accountKey, decidedAt))) {
      if (state === VerificationState.Verified) throw new SafetyNumberChangedError(accountId);
      return; // clearing a decision about a key that is gone: nothing to clear
    }
    // Our other devices hear of it end to end encrypted (nothing is sent on a single-device account).
    await this.deps.messenger.send(this.deps.identity.accountId, {
      case: 'verification',
      value: { accountId, accountKey: contact.accountKey, state, decidedAt },
    });
  }

  /** Records a decision about `key`; false when `key` is no longer the contact's. */
  private async record(accountId: string, state: VerificationState, key: Uint8Array, decidedAt: number): Promise<boolean> {
    const before = await this.deps.contacts.get(accountId);
    const updated = await this.deps.contacts.decide(accountId, state, key, decidedAt);
    if (updated === null) return false;
    if (before?.verification.state !== state) this.deps.emit('verification-changed', { accountId, state });
    // Whatever was decided, it is not "held" any more: messages waiting for it go now.
    this.deps.messenger.released(accountId);
    return true;
  }

  private async contact(accountId: string): Promise<ContactRecord> {
    return (await this.deps.contacts.get(accountId)) ?? (await this.deps.messenger.refreshAccount(accountId)).record;
  }
}

function sameKey(contact: ContactRecord, key: Uint8Array): boolean {
  return key instanceof Uint8Array && bytesEqual(contact.accountKey, key);
}
