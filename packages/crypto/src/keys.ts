/**
 * The long-lived keys of an account and its devices, and the prekeys a device publishes.
 *
 * - The **account identity key** (Ed25519) lives on the primary device and signs device
 *   certificates and device lists.
 * - Each **device identity** is a pair: an Ed25519 key that signs the device's prekeys, and an
 *   X25519 key used in PQXDH. WebCrypto has no XEdDSA, so one key cannot do both as in Signal;
 *   the device certificate (signed by the account key) binds the two together.
 * - **Prekeys**: a signed X25519 prekey, one-time X25519 prekeys, and a signed ML-KEM-768 prekey.
 * @module
 */
import { ed25519Sign, ed25519Verify, generateEd25519KeyPair, type Ed25519KeyPair } from './ed25519.js';
import { assertBytes } from './errors.js';
import { DOMAIN } from './domains.js';
import { ByteWriter } from './encoding.js';
import { generateMlKemKeyPair, type MlKemKeyPair } from './ml-kem.js';
import { generateX25519KeyPair, type KeyGenerationOptions, type X25519KeyPair } from './x25519.js';

/** The account identity key pair (Ed25519). Only the primary device holds its private half. */
export type AccountIdentity = Ed25519KeyPair;

/** A device's own identity keys. */
export interface DeviceIdentity {
  /** Signs this device's prekeys. */
  readonly signing: Ed25519KeyPair;
  /** Takes part in PQXDH as IK. */
  readonly agreement: X25519KeyPair;
}

/** The public half of a device identity, as peers see it. */
export interface DevicePublicIdentity {
  /** Ed25519 public key, 32 bytes. */
  readonly signingKey: Uint8Array;
  /** X25519 public key, 32 bytes. */
  readonly agreementKey: Uint8Array;
}

/** A signed X25519 prekey with its private half. */
export interface SignedPreKey {
  readonly id: number;
  readonly keyPair: X25519KeyPair;
  /** Ed25519 signature by the device signing key over the domain label, id and public key. */
  readonly signature: Uint8Array;
}

/** A one-time X25519 prekey with its private half. */
export interface OneTimePreKey {
  readonly id: number;
  readonly keyPair: X25519KeyPair;
}

/** A signed ML-KEM-768 prekey with its secret half. */
export interface PqPreKey {
  readonly id: number;
  readonly keyPair: MlKemKeyPair;
  readonly signature: Uint8Array;
}

/** The published form of a signed X25519 prekey. */
export interface SignedPreKeyPublic {
  readonly id: number;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
}

/** The published form of a one-time X25519 prekey. */
export interface OneTimePreKeyPublic {
  readonly id: number;
  readonly publicKey: Uint8Array;
}

/** The published form of a signed ML-KEM-768 prekey. */
export type PqPreKeyPublic = SignedPreKeyPublic;

/** Makes an account identity key pair. */
export async function generateAccountIdentity(options: KeyGenerationOptions = {}): Promise<AccountIdentity> {
  return generateEd25519KeyPair(options);
}

/** Makes a device identity (signing and agreement key pairs). */
export async function generateDeviceIdentity(options: KeyGenerationOptions = {}): Promise<DeviceIdentity> {
  const [signing, agreement] = await Promise.all([generateEd25519KeyPair(options), generateX25519KeyPair(options)]);
  return { signing, agreement };
}

/** The public half of a device identity. */
export function publicIdentity(identity: DeviceIdentity): DevicePublicIdentity {
  return { signingKey: identity.signing.publicKey, agreementKey: identity.agreement.publicKey };
}

function checkId(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > 0xffff_ffff) throw new RangeError('id must be a u32');
}

function preKeySignedMessage(domain: string, id: number, publicKey: Uint8Array): Uint8Array {
  return new ByteWriter().string(domain).u32(id).bytes(publicKey).finish();
}

/** Makes a signed X25519 prekey. */
export async function generateSignedPreKey(
  identity: DeviceIdentity,
  id: number,
  options: KeyGenerationOptions = {},
): Promise<SignedPreKey> {
  checkId(id);
  const keyPair = await generateX25519KeyPair(options);
  const signature = await ed25519Sign(
    identity.signing.privateKey,
    preKeySignedMessage(DOMAIN.signedPreKey, id, keyPair.publicKey),
  );
  return { id, keyPair, signature };
}

/** Makes `count` one-time prekeys with consecutive ids from `firstId`. */
export async function generateOneTimePreKeys(
  firstId: number,
  count: number,
  options: KeyGenerationOptions = {},
): Promise<OneTimePreKey[]> {
  checkId(firstId);
  if (!Number.isInteger(count) || count < 0 || count > 1000) throw new RangeError('count must be 0..1000');
  checkId(firstId + Math.max(0, count - 1));
  return Promise.all(
    Array.from({ length: count }, async (_, i) => ({ id: firstId + i, keyPair: await generateX25519KeyPair(options) })),
  );
}

/** Makes a signed ML-KEM-768 prekey. */
export async function generatePqPreKey(identity: DeviceIdentity, id: number): Promise<PqPreKey> {
  checkId(id);
  const keyPair = generateMlKemKeyPair();
  const signature = await ed25519Sign(identity.signing.privateKey, preKeySignedMessage(DOMAIN.pqPreKey, id, keyPair.publicKey));
  return { id, keyPair, signature };
}

/** Checks a signed X25519 prekey against the device signing key; `false` on any mismatch. */
export async function verifySignedPreKey(signingKey: Uint8Array, preKey: SignedPreKeyPublic): Promise<boolean> {
  return verifyPreKey(DOMAIN.signedPreKey, signingKey, preKey);
}

/** Checks a signed ML-KEM prekey against the device signing key; `false` on any mismatch. */
export async function verifyPqPreKey(signingKey: Uint8Array, preKey: PqPreKeyPublic): Promise<boolean> {
  return verifyPreKey(DOMAIN.pqPreKey, signingKey, preKey);
}

async function verifyPreKey(domain: string, signingKey: Uint8Array, preKey: SignedPreKeyPublic): Promise<boolean> {
  assertBytes(signingKey, 'signingKey');
  if (!Number.isInteger(preKey.id) || preKey.id < 0 || preKey.id > 0xffff_ffff) return false;
  if (!(preKey.publicKey instanceof Uint8Array) || !(preKey.signature instanceof Uint8Array)) return false;
  return ed25519Verify(signingKey, preKeySignedMessage(domain, preKey.id, preKey.publicKey), preKey.signature);
}

/** The published form of a signed prekey. */
export function signedPreKeyPublic(preKey: SignedPreKey | PqPreKey): SignedPreKeyPublic {
  return { id: preKey.id, publicKey: preKey.keyPair.publicKey, signature: preKey.signature };
}
