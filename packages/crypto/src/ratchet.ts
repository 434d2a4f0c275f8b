/**
 * The Double Ratchet (Signal's "The Double Ratchet Algorithm", revision 1), with X25519,
 * HKDF-SHA256, HMAC-SHA256 and AES-256-GCM, and without header encryption.
 *
 * - KDF_RK(rk, dh) = HKDF(ikm = dh, salt = rk, info = label) split into a new root key and a
 *   chain key (spec section 5.2).
 * - KDF_CK(ck): message key = HMAC(ck, 0x01), next chain key = HMAC(ck, 0x02) (section 5.2).
 * - ENCRYPT(mk, plaintext, AD || header): AES-256-GCM under a key and nonce from HKDF(mk); a
 *   message key encrypts exactly one message, so a derived nonce is never reused.
 *
 * Guarantees checked by the tests (SPEC RATCHET-*): messages decrypt in any order and exactly once;
 * at most MAX_SKIP keys are derived ahead in one chain and at most MAX_SKIPPED_KEYS are kept, oldest
 * dropped first; a message that fails in any way leaves the state exactly as it was (section 3.5,
 * "if an exception is raised ... discard any changes"); used message keys and replaced chain keys
 * are wiped; the state serialises to a structured-cloneable record and restores.
 * @module
 */
import { bytesEqual, toHex, utf8, wipe } from './bytes.js';
import { DOMAIN } from './domains.js';
import { ByteReader, ByteWriter } from './encoding.js';
import { assertBytes, InvalidPeerKeyError, MalformedInputError } from './errors.js';
import { aesGcmDecrypt, aesGcmEncrypt, importAesGcmKey } from './aes-gcm.js';
import { hkdfSha256 } from './hkdf.js';
import { hmacSha256 } from './hmac.js';
import { generateX25519KeyPair, x25519, type X25519KeyPair } from './x25519.js';
import type { CryptoKey } from './webcrypto.js';

/** Most message keys derived ahead within one receiving chain (spec section 3.2's MAX_SKIP). */
export const MAX_SKIP = 1000;
/**
 * Most skipped message keys kept in all. A peer that keeps skipping could otherwise make us store
 * keys without bound; past this the oldest are dropped (their messages can then no longer be read).
 */
export const MAX_SKIPPED_KEYS = 2000;

/**
 * How many earlier ratchet keys of the peer are remembered, so that a replayed message from an
 * old chain is recognised as a duplicate instead of costing a pointless DH ratchet step.
 */
export const REMEMBERED_REMOTE_KEYS = 32;

const RATCHET_MESSAGE_VERSION = 1;
/** version (1) || DH public key (32) || PN (4) || N (4). */
export const RATCHET_HEADER_BYTES = 41;

/** Why a message was refused. A refusal never changes the session. */
export const DecryptFailure = {
  /** The bytes are not a ratchet message. */
  Malformed: 'malformed',
  /** This message was already decrypted (or its key was dropped): replays are refused. */
  Duplicate: 'duplicate',
  /** Reading it would need more than MAX_SKIP keys derived ahead. */
  TooManySkipped: 'too-many-skipped',
  /** The header carries an unusable ratchet key. */
  InvalidKey: 'invalid-key',
  /** The ciphertext, the header or the associated data was changed, or the key is wrong. */
  AuthenticationFailed: 'authentication-failed',
} as const;
/** One of the reasons in `DecryptFailure`. */
export type DecryptFailure = (typeof DecryptFailure)[keyof typeof DecryptFailure];

/** The outcome of decrypting one message. */
export type DecryptResult =
  | { readonly ok: true; readonly plaintext: Uint8Array }
  | { readonly ok: false; readonly reason: DecryptFailure };

/** A skipped message key, kept until its message arrives or it is evicted. */
export interface SkippedKeyRecord {
  readonly ratchetKey: Uint8Array;
  readonly counter: number;
  readonly messageKey: Uint8Array;
}

/**
 * A snapshot of a ratchet, for storage. It holds Uint8Arrays and one CryptoKey, so it is
 * structured-cloneable (IndexedDB stores it with the private key still non-extractable).
 * Every byte array is a copy: wiping the live session later does not touch it.
 */
export interface RatchetRecord {
  readonly version: 1;
  readonly associatedData: Uint8Array;
  readonly rootKey: Uint8Array;
  readonly ownRatchetKey: { readonly publicKey: Uint8Array; readonly privateKey: CryptoKey };
  readonly remoteRatchetKey: Uint8Array | null;
  /** The peer's earlier ratchet keys, newest last. */
  readonly previousRemoteRatchetKeys: readonly Uint8Array[];
  readonly sendingChainKey: Uint8Array | null;
  readonly receivingChainKey: Uint8Array | null;
  readonly sendCount: number;
  readonly receiveCount: number;
  readonly previousSendCount: number;
  /** Oldest first. */
  readonly skipped: readonly SkippedKeyRecord[];
  /** Whether new ratchet keys are made extractable (only for stores that must export keys). */
  readonly extractableKeys: boolean;
}

/** The parsed header of a ratchet message. */
export interface RatchetHeader {
  readonly ratchetKey: Uint8Array;
  readonly previousCount: number;
  readonly counter: number;
}

interface State {
  associatedData: Uint8Array;
  rootKey: Uint8Array;
  ownRatchetKey: X25519KeyPair;
  remoteRatchetKey: Uint8Array | null;
  previousRemoteRatchetKeys: readonly Uint8Array[];
  sendingChainKey: Uint8Array | null;
  receivingChainKey: Uint8Array | null;
  sendCount: number;
  receiveCount: number;
  previousSendCount: number;
  /** Keyed by `${hex(ratchetKey)}:${counter}`; Map keeps insertion order, oldest first. */
  skipped: Map<string, SkippedKeyRecord>;
  readonly extractableKeys: boolean;
}

/** Options of a new ratchet. */
export interface RatchetOptions {
  /** Make ratchet keys extractable: only for a store that serialises keys to bytes (Node files). */
  readonly extractableKeys?: boolean;
}

const ZERO_SALT = new Uint8Array(32);
const ROOT_INFO = utf8(DOMAIN.ratchetRoot);
const MESSAGE_INFO = utf8(DOMAIN.ratchetMessage);
const CHAIN_MESSAGE = Uint8Array.of(0x01);
const CHAIN_NEXT = Uint8Array.of(0x02);

async function kdfRoot(rootKey: Uint8Array, dhOutput: Uint8Array): Promise<[Uint8Array, Uint8Array]> {
  const out = await hkdfSha256(dhOutput, rootKey, ROOT_INFO, 64);
  wipe(dhOutput);
  return [out.slice(0, 32), out.slice(32, 64)];
}

/** KDF_CK: [message key, next chain key]. Exported for the forward-secrecy tests. */
export async function kdfChain(chainKey: Uint8Array): Promise<[Uint8Array, Uint8Array]> {
  return Promise.all([hmacSha256(chainKey, CHAIN_MESSAGE), hmacSha256(chainKey, CHAIN_NEXT)]);
}

async function messageCipher(messageKey: Uint8Array): Promise<{ key: CryptoKey; nonce: Uint8Array }> {
  const material = await hkdfSha256(messageKey, ZERO_SALT, MESSAGE_INFO, 44);
  const key = await importAesGcmKey(material.subarray(0, 32));
  const nonce = material.slice(32, 44);
  wipe(material);
  return { key, nonce };
}

function encodeHeader(header: RatchetHeader): Uint8Array {
  return new ByteWriter()
    .u8(RATCHET_MESSAGE_VERSION)
    .fixed(header.ratchetKey, 32)
    .u32(header.previousCount)
    .u32(header.counter)
    .finish();
}

/** Splits a ratchet message into its header and ciphertext; throws `MalformedInputError`. */
export function parseRatchetMessage(message: Uint8Array): { header: RatchetHeader; headerBytes: Uint8Array; ciphertext: Uint8Array } {
  const reader = new ByteReader(message);
  const version = reader.u8();
  if (version !== RATCHET_MESSAGE_VERSION) throw new MalformedInputError(`unknown ratchet message version ${version}`);
  const header = { ratchetKey: reader.fixed(32), previousCount: reader.u32(), counter: reader.u32() };
  const ciphertext = reader.rest();
  if (ciphertext.length < 16) throw new MalformedInputError('ciphertext is shorter than its tag');
  return { header, headerBytes: message.slice(0, RATCHET_HEADER_BYTES), ciphertext };
}

function skippedId(ratchetKey: Uint8Array, counter: number): string {
  return `${toHex(ratchetKey)}:${counter}`;
}

class RefusedError extends Error {
  constructor(readonly reason: DecryptFailure) {
    super(reason);
  }
}

/**
 * One Double Ratchet session between two devices.
 *
 * Operations are serialised internally: concurrent `encrypt`/`decrypt` calls run one after the
 * other, because each reads and replaces the whole state.
 */
export class DoubleRatchet {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private state: State) {}

  /**
   * The initiator's ratchet (spec section 3.3, RatchetInitAlice): `sharedSecret` from PQXDH,
   * `remoteRatchetKey` the responder's signed prekey.
   */
  static async initiator(
    sharedSecret: Uint8Array,
    associatedData: Uint8Array,
    remoteRatchetKey: Uint8Array,
    options: RatchetOptions = {},
  ): Promise<DoubleRatchet> {
    assertBytes(sharedSecret, 'sharedSecret', 32);
    assertBytes(associatedData, 'associatedData');
    assertBytes(remoteRatchetKey, 'remoteRatchetKey', 32);
    const extractableKeys = options.extractableKeys ?? false;
    const ownRatchetKey = await generateX25519KeyPair({ extractable: extractableKeys });
    const [rootKey, sendingChainKey] = await kdfRoot(
      sharedSecret.slice(),
      await x25519(ownRatchetKey.privateKey, remoteRatchetKey),
    );
    return new DoubleRatchet({
      associatedData: associatedData.slice(),
      rootKey,
      ownRatchetKey,
      remoteRatchetKey: remoteRatchetKey.slice(),
      previousRemoteRatchetKeys: [],
      sendingChainKey,
      receivingChainKey: null,
      sendCount: 0,
      receiveCount: 0,
      previousSendCount: 0,
      skipped: new Map(),
      extractableKeys,
    });
  }

  /**
   * The responder's ratchet (RatchetInitBob): its first ratchet key is the signed prekey the
   * initiator used. It can send only after it has received.
   */
  static responder(
    sharedSecret: Uint8Array,
    associatedData: Uint8Array,
    ownRatchetKey: X25519KeyPair,
    options: RatchetOptions = {},
  ): DoubleRatchet {
    assertBytes(sharedSecret, 'sharedSecret', 32);
    assertBytes(associatedData, 'associatedData');
    return new DoubleRatchet({
      associatedData: associatedData.slice(),
      rootKey: sharedSecret.slice(),
      ownRatchetKey,
      remoteRatchetKey: null,
      previousRemoteRatchetKeys: [],
      sendingChainKey: null,
      receivingChainKey: null,
      sendCount: 0,
      receiveCount: 0,
      previousSendCount: 0,
      skipped: new Map(),
      extractableKeys: options.extractableKeys ?? false,
    });
  }

  /** Rebuilds a ratchet from `snapshot()`'s record. Throws a `TypeError` for a malformed record. */
  static restore(record: RatchetRecord): DoubleRatchet {
    if (record?.version !== 1) throw new TypeError('record is not a version 1 ratchet record');
    const copy = (bytes: Uint8Array | null, name: string): Uint8Array | null => {
      if (bytes === null) return null;
      assertBytes(bytes, name, 32);
      return bytes.slice();
    };
    assertBytes(record.associatedData, 'record.associatedData');
    for (const count of [record.sendCount, record.receiveCount, record.previousSendCount]) {
      if (!Number.isInteger(count) || count < 0 || count > 0xffff_ffff) throw new TypeError('record has a bad counter');
    }
    const skipped = new Map<string, SkippedKeyRecord>();
    for (const entry of record.skipped) {
      assertBytes(entry.ratchetKey, 'record.skipped[].ratchetKey', 32);
      assertBytes(entry.messageKey, 'record.skipped[].messageKey', 32);
      skipped.set(skippedId(entry.ratchetKey, entry.counter), {
        ratchetKey: entry.ratchetKey.slice(),
        counter: entry.counter,
        messageKey: entry.messageKey.slice(),
      });
    }
    assertBytes(record.ownRatchetKey.publicKey, 'record.ownRatchetKey.publicKey', 32);
    return new DoubleRatchet({
      associatedData: record.associatedData.slice(),
      rootKey: copy(record.rootKey, 'record.rootKey') as Uint8Array,
      ownRatchetKey: { publicKey: record.ownRatchetKey.publicKey.slice(), privateKey: record.ownRatchetKey.privateKey },
      remoteRatchetKey: copy(record.remoteRatchetKey, 'record.remoteRatchetKey'),
      previousRemoteRatchetKeys: record.previousRemoteRatchetKeys
        .slice(-REMEMBERED_REMOTE_KEYS)
        .map((key, i) => copy(key, `record.previousRemoteRatchetKeys[${i}]`) as Uint8Array),
      sendingChainKey: copy(record.sendingChainKey, 'record.sendingChainKey'),
      receivingChainKey: copy(record.receivingChainKey, 'record.receivingChainKey'),
      sendCount: record.sendCount,
      receiveCount: record.receiveCount,
      previousSendCount: record.previousSendCount,
      skipped,
      extractableKeys: record.extractableKeys === true,
    });
  }

  /** Whether this side can encrypt yet (a responder must first receive). */
  get canSend(): boolean {
    return this.state.sendingChainKey !== null;
  }

  /** Number of skipped message keys currently held. */
  get skippedKeyCount(): number {
    return this.state.skipped.size;
  }

  /** A structured-cloneable copy of the state, for storage. */
  snapshot(): RatchetRecord {
    const s = this.state;
    const copy = (bytes: Uint8Array | null): Uint8Array | null => bytes?.slice() ?? null;
    return {
      version: 1,
      associatedData: s.associatedData.slice(),
      rootKey: s.rootKey.slice(),
      ownRatchetKey: { publicKey: s.ownRatchetKey.publicKey.slice(), privateKey: s.ownRatchetKey.privateKey },
      remoteRatchetKey: copy(s.remoteRatchetKey),
      previousRemoteRatchetKeys: s.previousRemoteRatchetKeys.map((key) => key.slice()),
      sendingChainKey: copy(s.sendingChainKey),
      receivingChainKey: copy(s.receivingChainKey),
      sendCount: s.sendCount,
      receiveCount: s.receiveCount,
      previousSendCount: s.previousSendCount,
      skipped: [...s.skipped.values()].map((entry) => ({
        ratchetKey: entry.ratchetKey.slice(),
        counter: entry.counter,
        messageKey: entry.messageKey.slice(),
      })),
      extractableKeys: s.extractableKeys,
    };
  }

  /**
   * Encrypts one message; returns header || ciphertext.
   *
   * `beforeUse`, when given, runs after the state has moved past this message's key and before
   * the key is used: the caller stores the state there (SPEC RATCHET-7), so that a crash at any
   * point can never lead a restored state to use the same key (and nonce) for another plaintext.
   * If it throws, nothing is encrypted and the key is lost (the peer just sees a skipped message).
   */
  encrypt(plaintext: Uint8Array, beforeUse?: () => Promise<void>): Promise<Uint8Array> {
    assertBytes(plaintext, 'plaintext');
    return this.serialised(async () => {
      const s = this.state;
      if (s.sendingChainKey === null) throw new Error('this session cannot send before it has received a message');
      if (s.sendCount >= 0xffff_ffff) throw new RangeError('sending chain exhausted');
      const [messageKey, nextChainKey] = await kdfChain(s.sendingChainKey);
      const headerBytes = encodeHeader({
        ratchetKey: s.ownRatchetKey.publicKey,
        previousCount: s.previousSendCount,
        counter: s.sendCount,
      });
      wipe(s.sendingChainKey);
      s.sendingChainKey = nextChainKey;
      s.sendCount += 1;
      try {
        await beforeUse?.();
      } catch (error) {
        wipe(messageKey);
        throw error;
      }
      const { key, nonce } = await messageCipher(messageKey);
      wipe(messageKey);
      const ciphertext = await aesGcmEncrypt(key, nonce, plaintext, this.associatedDataFor(headerBytes));
      const out = new Uint8Array(headerBytes.length + ciphertext.length);
      out.set(headerBytes);
      out.set(ciphertext, headerBytes.length);
      return out;
    });
  }

  /**
   * Decrypts one message. Refusals are results, not exceptions, and leave the state untouched;
   * only a misuse by the caller (not bytes) throws.
   */
  decrypt(message: Uint8Array): Promise<DecryptResult> {
    assertBytes(message, 'message');
    return this.serialised(async () => {
      let parsed: ReturnType<typeof parseRatchetMessage>;
      try {
        parsed = parseRatchetMessage(message);
      } catch (error) {
        if (error instanceof MalformedInputError) return { ok: false, reason: DecryptFailure.Malformed };
        throw error;
      }
      const work = this.workingCopy();
      const discarded: Uint8Array[] = [];
      try {
        const plaintext = await this.decryptInto(work, discarded, parsed);
        this.commit(work, discarded);
        return { ok: true, plaintext };
      } catch (error) {
        this.rollback(work, discarded);
        if (error instanceof RefusedError) return { ok: false, reason: error.reason };
        if (error instanceof InvalidPeerKeyError) return { ok: false, reason: DecryptFailure.InvalidKey };
        throw error;
      }
    });
  }

  private async decryptInto(
    work: State,
    discarded: Uint8Array[],
    { header, headerBytes, ciphertext }: ReturnType<typeof parseRatchetMessage>,
  ): Promise<Uint8Array> {
    const id = skippedId(header.ratchetKey, header.counter);
    const skipped = work.skipped.get(id);
    if (skipped) {
      work.skipped.delete(id);
      discarded.push(skipped.messageKey);
      return this.open(skipped.messageKey, headerBytes, ciphertext, work.associatedData);
    }
    const sameChain = work.remoteRatchetKey !== null && bytesEqual(header.ratchetKey, work.remoteRatchetKey);
    // An initiator that has not heard back holds the responder's signed prekey as DHr but no
    // receiving chain: the responder never sends under that key (its first reply comes from a
    // fresh ratchet key), so such a header is forged. Refused, never a TypeError (SPEC CRYPTO-3).
    if (sameChain && work.receivingChainKey === null) throw new RefusedError(DecryptFailure.InvalidKey);
    if (sameChain && header.counter < work.receiveCount) throw new RefusedError(DecryptFailure.Duplicate);
    if (work.previousRemoteRatchetKeys.some((key) => bytesEqual(key, header.ratchetKey))) {
      // A chain we have left: every key of it we still hold was looked up above.
      throw new RefusedError(DecryptFailure.Duplicate);
    }
    if (!sameChain) {
      await this.skipMessageKeys(work, discarded, header.previousCount);
      await this.ratchetStep(work, discarded, header.ratchetKey);
    }
    await this.skipMessageKeys(work, discarded, header.counter);
    const receivingChainKey = work.receivingChainKey;
    if (receivingChainKey === null) throw new RefusedError(DecryptFailure.InvalidKey);
    const [messageKey, nextChainKey] = await kdfChain(receivingChainKey);
    discarded.push(receivingChainKey, messageKey);
    work.receivingChainKey = nextChainKey;
    work.receiveCount += 1;
    return this.open(messageKey, headerBytes, ciphertext, work.associatedData);
  }

  private async open(
    messageKey: Uint8Array,
    headerBytes: Uint8Array,
    ciphertext: Uint8Array,
    associatedData: Uint8Array,
  ): Promise<Uint8Array> {
    const { key, nonce } = await messageCipher(messageKey);
    const plaintext = await aesGcmDecrypt(key, nonce, ciphertext, concat(associatedData, headerBytes));
    if (plaintext === null) throw new RefusedError(DecryptFailure.AuthenticationFailed);
    return plaintext;
  }

  /** Derives and stores the keys of messages not yet received in the current chain (section 3.5). */
  private async skipMessageKeys(work: State, discarded: Uint8Array[], until: number): Promise<void> {
    if (work.receivingChainKey === null || work.remoteRatchetKey === null) return;
    if (until > work.receiveCount + MAX_SKIP) throw new RefusedError(DecryptFailure.TooManySkipped);
    while (work.receiveCount < until) {
      const [messageKey, nextChainKey] = await kdfChain(work.receivingChainKey);
      discarded.push(work.receivingChainKey);
      work.receivingChainKey = nextChainKey;
      work.skipped.set(skippedId(work.remoteRatchetKey, work.receiveCount), {
        ratchetKey: work.remoteRatchetKey,
        counter: work.receiveCount,
        messageKey,
      });
      work.receiveCount += 1;
    }
    // Bounded storage: drop the oldest keys first (Map iterates in insertion order).
    for (const [key, entry] of work.skipped) {
      if (work.skipped.size <= MAX_SKIPPED_KEYS) break;
      work.skipped.delete(key);
      discarded.push(entry.messageKey);
    }
  }

  /** DHRatchet of section 3.5: a new receiving chain, then a new ratchet key and sending chain. */
  private async ratchetStep(work: State, discarded: Uint8Array[], remoteRatchetKey: Uint8Array): Promise<void> {
    work.previousSendCount = work.sendCount;
    work.sendCount = 0;
    work.receiveCount = 0;
    if (work.remoteRatchetKey !== null) {
      work.previousRemoteRatchetKeys = [...work.previousRemoteRatchetKeys, work.remoteRatchetKey].slice(
        -REMEMBERED_REMOTE_KEYS,
      );
    }
    work.remoteRatchetKey = remoteRatchetKey.slice();
    const [rootKey1, receivingChainKey] = await kdfRoot(
      work.rootKey,
      await x25519(work.ownRatchetKey.privateKey, remoteRatchetKey),
    );
    work.ownRatchetKey = await generateX25519KeyPair({ extractable: work.extractableKeys });
    const [rootKey2, sendingChainKey] = await kdfRoot(
      rootKey1,
      await x25519(work.ownRatchetKey.privateKey, remoteRatchetKey),
    );
    discarded.push(work.rootKey, rootKey1);
    if (work.receivingChainKey) discarded.push(work.receivingChainKey);
    if (work.sendingChainKey) discarded.push(work.sendingChainKey);
    work.rootKey = rootKey2;
    work.receivingChainKey = receivingChainKey;
    work.sendingChainKey = sendingChainKey;
  }

  private associatedDataFor(headerBytes: Uint8Array): Uint8Array {
    return concat(this.state.associatedData, headerBytes);
  }

  /** A copy whose changes can be dropped; byte arrays are shared and never mutated in place. */
  private workingCopy(): State {
    return { ...this.state, skipped: new Map(this.state.skipped) };
  }

  /** Adopts the working copy and wipes every secret it replaced. */
  private commit(work: State, discarded: readonly Uint8Array[]): void {
    this.state = work;
    wipeUnless(liveSecrets(work), discarded);
  }

  /** Wipes whatever a failed attempt derived; the old state stays exactly as it was. */
  private rollback(work: State, discarded: readonly Uint8Array[]): void {
    wipeUnless(liveSecrets(this.state), [...discarded, ...liveSecrets(work)]);
  }

  private serialised<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

/** Every secret byte array a state holds. */
function liveSecrets(state: State): Set<Uint8Array> {
  const live = new Set<Uint8Array>([state.rootKey]);
  if (state.sendingChainKey) live.add(state.sendingChainKey);
  if (state.receivingChainKey) live.add(state.receivingChainKey);
  for (const entry of state.skipped.values()) live.add(entry.messageKey);
  return live;
}

function wipeUnless(keep: ReadonlySet<Uint8Array>, candidates: Iterable<Uint8Array>): void {
  for (const secret of candidates) if (!keep.has(secret)) wipe(secret);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
