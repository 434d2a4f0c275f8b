/**
 * A session between two devices: PQXDH to start, the Double Ratchet after, and the framing of
 * the messages that carry both.
 *
 *     SessionMessage = version (1) || type (1) || body
 *       type 1, PreKey: the PQXDH initiation || length-prefixed ratchet message
 *       type 2, Normal: the ratchet message
 *
 * The initiator sends PreKey messages until it first hears back, so the responder can set the
 * session up from whichever of them arrives first (Signal's PreKeySignalMessage behaviour).
 * @module
 */
import { bytesEqual } from './bytes.js';
import { ByteReader, ByteWriter } from './encoding.js';
import { assertBytes, MalformedInputError } from './errors.js';
import type { DeviceIdentity, DevicePublicIdentity, OneTimePreKey, PqPreKey, SignedPreKey } from './keys.js';
import { ML_KEM_768_CIPHERTEXT_BYTES } from './ml-kem.js';
import {
  initiatePqxdh,
  respondPqxdh,
  type DeviceAddress,
  type PqxdhInitiation,
  type PreKeyBundle,
  type SessionBinding,
} from './pqxdh.js';
import { DecryptFailure, DoubleRatchet, type RatchetOptions, type RatchetRecord } from './ratchet.js';

export type { DeviceAddress, SessionBinding } from './pqxdh.js';

const SESSION_MESSAGE_VERSION = 1;

/** The two kinds of session message. */
export const SessionMessageType = { PreKey: 1, Normal: 2 } as const;
/** One of `SessionMessageType`. */
export type SessionMessageType = (typeof SessionMessageType)[keyof typeof SessionMessageType];

/** Why a session message was refused, beyond the ratchet's own reasons. */
export const SessionFailure = {
  ...DecryptFailure,
  /** A PreKey message names a prekey this device no longer (or never) had. */
  UnknownPreKey: 'unknown-prekey',
  /** A PreKey message starts a different session than this one: set up a new one with `accept`. */
  OtherSession: 'other-session',
} as const;
/** One of `SessionFailure`. */
export type SessionFailure = (typeof SessionFailure)[keyof typeof SessionFailure];

/** The outcome of decrypting a session message. */
export type SessionDecryptResult =
  | { readonly ok: true; readonly plaintext: Uint8Array }
  | { readonly ok: false; readonly reason: SessionFailure };

/** Where a responder finds its private prekeys by id. */
export interface PreKeySource {
  signedPreKey(id: number): Promise<SignedPreKey | null> | SignedPreKey | null;
  pqPreKey(id: number): Promise<PqPreKey | null> | PqPreKey | null;
  oneTimePreKey(id: number): Promise<OneTimePreKey | null> | OneTimePreKey | null;
}

/**
 * A stored session: structured-cloneable, like the ratchet record inside it. Version 2 sessions
 * bind both parties' account and device ids into their associated data; version 1 records (from
 * before that binding) are refused by `restore`, so those sessions start again.
 */
export interface SessionRecord {
  readonly version: 2;
  readonly remoteIdentity: DevicePublicIdentity;
  /** The peer's account and device, as bound into the associated data. */
  readonly remoteAddress: DeviceAddress;
  readonly ratchet: RatchetRecord;
  /** Initiator: the encoded initiation still to be sent, until the first reply arrives. */
  readonly pendingInitiation: Uint8Array | null;
  /** Responder: the initiation's ephemeral key, to recognise the initiator's later PreKey messages. */
  readonly baseKey: Uint8Array | null;
}

/** The prekeys a successful `Session.accept` used, for the caller to delete if they were one-time. */
export interface UsedPreKeys {
  readonly signedPreKeyId: number;
  /** The ML-KEM prekey: a one-time one (delete it) or the last-resort one (keep it). */
  readonly pqPreKeyId: number;
  /** The one-time X25519 prekey, always to be deleted, or `null`. */
  readonly oneTimePreKeyId: number | null;
}

/** A parsed session message. */
export interface ParsedSessionMessage {
  readonly type: SessionMessageType;
  readonly initiation: PqxdhInitiation | null;
  readonly ratchetMessage: Uint8Array;
}

function encodeInitiation(initiation: PqxdhInitiation): Uint8Array {
  const writer = new ByteWriter()
    .fixed(initiation.initiatorIdentity.signingKey, 32)
    .fixed(initiation.initiatorIdentity.agreementKey, 32)
    .fixed(initiation.ephemeralKey, 32)
    .fixed(initiation.pqCiphertext, ML_KEM_768_CIPHERTEXT_BYTES)
    .u32(initiation.signedPreKeyId)
    .u32(initiation.pqPreKeyId);
  if (initiation.oneTimePreKeyId === null) writer.u8(0);
  else writer.u8(1).u32(initiation.oneTimePreKeyId);
  return writer.finish();
}

function readInitiation(reader: ByteReader): PqxdhInitiation {
  const initiatorIdentity = { signingKey: reader.fixed(32), agreementKey: reader.fixed(32) };
  const ephemeralKey = reader.fixed(32);
  const pqCiphertext = reader.fixed(ML_KEM_768_CIPHERTEXT_BYTES);
  const signedPreKeyId = reader.u32();
  const pqPreKeyId = reader.u32();
  const hasOneTime = reader.u8();
  if (hasOneTime > 1) throw new MalformedInputError('bad one-time prekey flag');
  const oneTimePreKeyId = hasOneTime === 1 ? reader.u32() : null;
  return { initiatorIdentity, ephemeralKey, pqCiphertext, signedPreKeyId, pqPreKeyId, oneTimePreKeyId };
}

/** Parses a session message; throws `MalformedInputError` for anything else. */
export function parseSessionMessage(message: Uint8Array): ParsedSessionMessage {
  assertBytes(message, 'message');
  const reader = new ByteReader(message);
  const version = reader.u8();
  if (version !== SESSION_MESSAGE_VERSION) throw new MalformedInputError(`unknown session message version ${version}`);
  const type = reader.u8();
  if (type === SessionMessageType.PreKey) {
    const initiation = readInitiation(reader);
    const ratchetMessage = reader.bytes();
    reader.end();
    return { type, initiation, ratchetMessage };
  }
  if (type === SessionMessageType.Normal) return { type, initiation: null, ratchetMessage: reader.rest() };
  throw new MalformedInputError(`unknown session message type ${type}`);
}

/** `parseSessionMessage` for peer data: `null` instead of an exception when malformed. */
function tryParseSessionMessage(message: Uint8Array): ParsedSessionMessage | null {
  try {
    return parseSessionMessage(message);
  } catch (error) {
    if (error instanceof MalformedInputError) return null;
    throw error;
  }
}

/**
 * An end-to-end-encrypted session with one device of a peer.
 *
 * @example
 * ```ts
 * const binding = { local: { accountId: 'alice', deviceId: aliceDevice }, remote: { accountId: 'bob', deviceId: bobDevice } };
 * const alice = await Session.initiate(aliceIdentity, bobBundle, binding);    // null if the bundle is forged
 * const first = await alice!.encrypt(utf8('hi'));
 * const accepted = await Session.accept(bobIdentity, bobPreKeys, first, { local: binding.remote, remote: binding.local });
 * if (accepted.ok) console.log(fromUtf8(accepted.plaintext));            // "hi"
 * ```
 */
export class Session {
  private constructor(
    private readonly ratchet: DoubleRatchet,
    /** The peer device's identity, fixed for the life of the session. */
    readonly remoteIdentity: DevicePublicIdentity,
    /** The peer's account and device, fixed for the life of the session. */
    readonly remoteAddress: DeviceAddress,
    private pendingInitiation: Uint8Array | null,
    private readonly baseKey: Uint8Array | null,
  ) {}

  /** The PQXDH base key of a session this device accepted (to recognise repeated PreKey messages). */
  get acceptedBaseKey(): Uint8Array | null {
    return this.baseKey;
  }

  /**
   * Starts a session from a peer device's prekey bundle; `null` when the bundle does not verify.
   * `binding` names this device and the peer device (bound into every message, SPEC PQXDH-1).
   */
  static async initiate(
    ours: DeviceIdentity,
    bundle: PreKeyBundle,
    binding: SessionBinding,
    options: RatchetOptions = {},
  ): Promise<Session | null> {
    const started = await initiatePqxdh(ours, bundle, binding);
    if (started === null) return null;
    const ratchet = await DoubleRatchet.initiator(
      started.agreement.sharedSecret,
      started.agreement.associatedData,
      bundle.signedPreKey.publicKey,
      options,
    );
    return new Session(ratchet, bundle.identity, copyAddress(binding.remote), encodeInitiation(started.initiation), null);
  }

  /**
   * Sets up the responder's side from a PreKey message and decrypts it. Nothing is created when
   * the message is refused. On success the caller deletes the one-time prekeys named in `used`
   * (the X25519 one, and the ML-KEM one if it was one-time) so that they never serve twice.
   * `binding.remote` is who the envelope says sent it; if that is not who initiated, the first
   * message does not decrypt (`authentication-failed`).
   */
  static async accept(
    ours: DeviceIdentity,
    preKeys: PreKeySource,
    message: Uint8Array,
    binding: SessionBinding,
    options: RatchetOptions = {},
  ): Promise<{ ok: true; session: Session; plaintext: Uint8Array; used: UsedPreKeys } | { ok: false; reason: SessionFailure }> {
    const parsed = tryParseSessionMessage(message);
    if (parsed === null) return { ok: false, reason: SessionFailure.Malformed };
    const initiation = parsed.initiation;
    if (initiation === null) return { ok: false, reason: SessionFailure.Malformed };
    const [signedPreKey, pqPreKey, oneTimePreKey] = await Promise.all([
      preKeys.signedPreKey(initiation.signedPreKeyId),
      preKeys.pqPreKey(initiation.pqPreKeyId),
      initiation.oneTimePreKeyId === null ? null : preKeys.oneTimePreKey(initiation.oneTimePreKeyId),
    ]);
    if (!signedPreKey || !pqPreKey || (initiation.oneTimePreKeyId !== null && !oneTimePreKey)) {
      return { ok: false, reason: SessionFailure.UnknownPreKey };
    }
    const agreement = await respondPqxdh(ours, { signedPreKey, pqPreKey, oneTimePreKey }, initiation, binding);
    if (agreement === null) return { ok: false, reason: SessionFailure.InvalidKey };
    const ratchet = DoubleRatchet.responder(agreement.sharedSecret, agreement.associatedData, signedPreKey.keyPair, options);
    const result = await ratchet.decrypt(parsed.ratchetMessage);
    if (!result.ok) return result;
    const session = new Session(ratchet, initiation.initiatorIdentity, copyAddress(binding.remote), null, initiation.ephemeralKey);
    const used = {
      signedPreKeyId: initiation.signedPreKeyId,
      pqPreKeyId: initiation.pqPreKeyId,
      oneTimePreKeyId: initiation.oneTimePreKeyId,
    };
    return { ok: true, session, plaintext: result.plaintext, used };
  }

  /** Rebuilds a session from `snapshot()`; a `TypeError` for a malformed or version 1 record. */
  static restore(record: SessionRecord): Session {
    if (record?.version !== 2) throw new TypeError('record is not a version 2 session record');
    assertBytes(record.remoteIdentity.signingKey, 'record.remoteIdentity.signingKey', 32);
    assertBytes(record.remoteIdentity.agreementKey, 'record.remoteIdentity.agreementKey', 32);
    const address = record.remoteAddress;
    if (typeof address?.accountId !== 'string' || typeof address.deviceId !== 'string') {
      throw new TypeError('record.remoteAddress must name an account and a device');
    }
    return new Session(
      DoubleRatchet.restore(record.ratchet),
      { signingKey: record.remoteIdentity.signingKey.slice(), agreementKey: record.remoteIdentity.agreementKey.slice() },
      copyAddress(address),
      record.pendingInitiation?.slice() ?? null,
      record.baseKey?.slice() ?? null,
    );
  }

  /** A structured-cloneable copy for storage. */
  snapshot(): SessionRecord {
    return {
      version: 2,
      remoteIdentity: { signingKey: this.remoteIdentity.signingKey.slice(), agreementKey: this.remoteIdentity.agreementKey.slice() },
      remoteAddress: copyAddress(this.remoteAddress),
      ratchet: this.ratchet.snapshot(),
      pendingInitiation: this.pendingInitiation?.slice() ?? null,
      baseKey: this.baseKey?.slice() ?? null,
    };
  }

  /**
   * Encrypts one message to the peer device. `beforeUse` runs once the session has moved past the
   * message's key and before the key is used: store the session there (`snapshot()` then holds the
   * advanced state), and no crash can make a restored session use that key again (SPEC RATCHET-7).
   */
  async encrypt(plaintext: Uint8Array, beforeUse?: () => Promise<void>): Promise<Uint8Array> {
    const ratchetMessage = await this.ratchet.encrypt(plaintext, beforeUse);
    const writer = new ByteWriter().u8(SESSION_MESSAGE_VERSION);
    if (this.pendingInitiation === null) {
      return writer.u8(SessionMessageType.Normal).fixed(ratchetMessage, ratchetMessage.length).finish();
    }
    return writer
      .u8(SessionMessageType.PreKey)
      .fixed(this.pendingInitiation, this.pendingInitiation.length)
      .bytes(ratchetMessage)
      .finish();
  }

  /**
   * Decrypts a message of this session. A PreKey message is accepted only when it carries this
   * session's own initiation (the initiator repeating it until it hears back).
   */
  async decrypt(message: Uint8Array): Promise<SessionDecryptResult> {
    const parsed = tryParseSessionMessage(message);
    if (parsed === null) return { ok: false, reason: SessionFailure.Malformed };
    if (parsed.initiation !== null) {
      if (this.baseKey === null || !bytesEqual(parsed.initiation.ephemeralKey, this.baseKey)) {
        return { ok: false, reason: SessionFailure.OtherSession };
      }
    }
    const result = await this.ratchet.decrypt(parsed.ratchetMessage);
    // The peer has our initiation once it answers: stop repeating it.
    if (result.ok) this.pendingInitiation = null;
    return result;
  }
}

function copyAddress(address: DeviceAddress): DeviceAddress {
  return { accountId: address.accountId, deviceId: address.deviceId };
}
