/**
 * PQXDH key agreement (Signal's "The PQXDH Key Agreement Protocol", revision 2), with X25519,
 * SHA-256 and ML-KEM-768.
 *
 * The initiator (Alice) fetches the responder's prekey bundle, checks both prekey signatures
 * against the responder's device signing key, and computes
 *
 *     DH1 = DH(IK_A, SPK_B)  DH2 = DH(EK_A, IK_B)  DH3 = DH(EK_A, SPK_B)  [DH4 = DH(EK_A, OPK_B)]
 *     (CT, SS) = ML-KEM-768.Encaps(PQPK_B)
 *     SK = HKDF(F || DH1 || DH2 || DH3 [|| DH4] || SS), F = 32 bytes of 0xFF, salt = 32 zero bytes
 *
 * (PQXDH section 3.3). The associated data binds both devices' full identities (both of their
 * keys, since our device identity is an Ed25519/X25519 pair, see keys.ts) and, as X3DH section 4.8
 * suggests, who they are: both account ids and both device ids. A server that relays a device's
 * messages as another account's, or another device's, therefore gets them refused by the AEAD.
 * That a bundle's identity belongs to the peer's account is checked by the caller against the
 * signed device list.
 * @module
 */
import { concatBytes, utf8, wipe } from './bytes.js';
import { checkId } from './device-certificate.js';
import { DOMAIN } from './domains.js';
import { ByteWriter } from './encoding.js';
import { InvalidPeerKeyError, MalformedInputError } from './errors.js';
import { hkdfSha256 } from './hkdf.js';
import {
  verifyPqPreKey,
  verifySignedPreKey,
  type DeviceIdentity,
  type DevicePublicIdentity,
  type OneTimePreKey,
  type OneTimePreKeyPublic,
  type PqPreKey,
  type PqPreKeyPublic,
  type SignedPreKey,
  type SignedPreKeyPublic,
} from './keys.js';
import { mlKemDecapsulate, mlKemEncapsulate } from './ml-kem.js';
import { generateX25519KeyPair, x25519 } from './x25519.js';

/** A device's published prekey bundle, as fetched by an initiator. */
export interface PreKeyBundle {
  readonly identity: DevicePublicIdentity;
  readonly signedPreKey: SignedPreKeyPublic;
  readonly pqPreKey: PqPreKeyPublic;
  /** Absent when the server ran out of one-time prekeys (PQXDH allows it; DH4 is then omitted). */
  readonly oneTimePreKey: OneTimePreKeyPublic | null;
}

/** Which account and device a party of a session is: bound into the associated data. */
export interface DeviceAddress {
  readonly accountId: string;
  readonly deviceId: string;
}

/** Both parties' addresses, as each side knows them: its own, and the peer's from the directory. */
export interface SessionBinding {
  readonly local: DeviceAddress;
  readonly remote: DeviceAddress;
}

/** What the initiator sends ahead of its first message so that the responder can agree too. */
export interface PqxdhInitiation {
  readonly initiatorIdentity: DevicePublicIdentity;
  readonly ephemeralKey: Uint8Array;
  readonly pqCiphertext: Uint8Array;
  readonly signedPreKeyId: number;
  readonly pqPreKeyId: number;
  readonly oneTimePreKeyId: number | null;
}

/** The agreed secret and the associated data both sides bind every message to. */
export interface PqxdhAgreement {
  /** SK, 32 bytes. */
  readonly sharedSecret: Uint8Array;
  /** AD = label || IK_A || IK_B || both accounts and devices (PQXDH section 3.3, X3DH section 4.8). */
  readonly associatedData: Uint8Array;
}

/** The responder's private prekeys named by an initiation. */
export interface ResponderPreKeys {
  readonly signedPreKey: SignedPreKey;
  readonly pqPreKey: PqPreKey;
  readonly oneTimePreKey: OneTimePreKey | null;
}

const F = new Uint8Array(32).fill(0xff);
const ZERO_SALT = new Uint8Array(32);

/** A party to a session: its identity keys and where it lives. */
export interface SessionParty {
  readonly identity: DevicePublicIdentity;
  readonly address: DeviceAddress;
}

/**
 * AD of PQXDH section 3.3, extended as X3DH section 4.8 suggests: both identities, then both
 * account ids and device ids, initiator first.
 */
export function sessionAssociatedData(initiator: SessionParty, responder: SessionParty): Uint8Array {
  return new ByteWriter()
    .string(DOMAIN.sessionAssociatedData)
    .fixed(initiator.identity.signingKey, 32)
    .fixed(initiator.identity.agreementKey, 32)
    .fixed(responder.identity.signingKey, 32)
    .fixed(responder.identity.agreementKey, 32)
    .string(initiator.address.accountId)
    .string(initiator.address.deviceId)
    .string(responder.address.accountId)
    .string(responder.address.deviceId)
    .finish();
}

/** Checks the caller's binding: ids are non-empty strings of at most MAX_ID_BYTES (a TypeError or RangeError otherwise). */
function checkBinding(binding: SessionBinding): void {
  checkId(binding.local.accountId, 'binding.local.accountId');
  checkId(binding.local.deviceId, 'binding.local.deviceId');
  checkId(binding.remote.accountId, 'binding.remote.accountId');
  checkId(binding.remote.deviceId, 'binding.remote.deviceId');
}

async function deriveSecret(parts: Uint8Array[]): Promise<Uint8Array> {
  const ikm = concatBytes(F, ...parts);
  try {
    return await hkdfSha256(ikm, ZERO_SALT, utf8(DOMAIN.pqxdhInfo), 32);
  } finally {
    wipe(ikm, ...parts);
  }
}

function validIdentity(identity: DevicePublicIdentity): boolean {
  return (
    identity.signingKey instanceof Uint8Array &&
    identity.signingKey.length === 32 &&
    identity.agreementKey instanceof Uint8Array &&
    identity.agreementKey.length === 32
  );
}

/**
 * Alice's side. Returns `null` when the bundle does not verify (a bad signature on either
 * prekey, or an unusable key): a bundle is data from a peer and is refused, not thrown over.
 */
export async function initiatePqxdh(
  ours: DeviceIdentity,
  bundle: PreKeyBundle,
  binding: SessionBinding,
): Promise<{ agreement: PqxdhAgreement; initiation: PqxdhInitiation } | null> {
  checkBinding(binding);
  if (!validIdentity(bundle.identity)) return null;
  const [spkOk, pqOk] = await Promise.all([
    verifySignedPreKey(bundle.identity.signingKey, bundle.signedPreKey),
    verifyPqPreKey(bundle.identity.signingKey, bundle.pqPreKey),
  ]);
  if (!spkOk || !pqOk) return null;
  const ephemeral = await generateX25519KeyPair();
  try {
    const dhs = await Promise.all([
      x25519(ours.agreement.privateKey, bundle.signedPreKey.publicKey),
      x25519(ephemeral.privateKey, bundle.identity.agreementKey),
      x25519(ephemeral.privateKey, bundle.signedPreKey.publicKey),
      ...(bundle.oneTimePreKey ? [x25519(ephemeral.privateKey, bundle.oneTimePreKey.publicKey)] : []),
    ]);
    const { ciphertext, sharedSecret: ss } = mlKemEncapsulate(bundle.pqPreKey.publicKey);
    const ourPublic = { signingKey: ours.signing.publicKey, agreementKey: ours.agreement.publicKey };
    return {
      agreement: {
        sharedSecret: await deriveSecret([...dhs, ss]),
        associatedData: sessionAssociatedData(
          { identity: ourPublic, address: binding.local },
          { identity: bundle.identity, address: binding.remote },
        ),
      },
      initiation: {
        initiatorIdentity: ourPublic,
        ephemeralKey: ephemeral.publicKey,
        pqCiphertext: ciphertext,
        signedPreKeyId: bundle.signedPreKey.id,
        pqPreKeyId: bundle.pqPreKey.id,
        oneTimePreKeyId: bundle.oneTimePreKey?.id ?? null,
      },
    };
  } catch (error) {
    if (error instanceof InvalidPeerKeyError) return null;
    throw error;
  }
}

/**
 * Bob's side: the same secret from Alice's initiation and the prekeys it names. Returns `null`
 * when the initiation does not fit the given prekeys or carries unusable keys. `binding.remote` is
 * who the initiator is said to be (the envelope's sender): if that is not who really initiated,
 * the associated data differs and the first message does not decrypt.
 */
export async function respondPqxdh(
  ours: DeviceIdentity,
  preKeys: ResponderPreKeys,
  initiation: PqxdhInitiation,
  binding: SessionBinding,
): Promise<PqxdhAgreement | null> {
  checkBinding(binding);
  if (!validIdentity(initiation.initiatorIdentity)) return null;
  if (
    initiation.signedPreKeyId !== preKeys.signedPreKey.id ||
    initiation.pqPreKeyId !== preKeys.pqPreKey.id ||
    initiation.oneTimePreKeyId !== (preKeys.oneTimePreKey?.id ?? null)
  ) {
    return null;
  }
  try {
    const dhs = await Promise.all([
      x25519(preKeys.signedPreKey.keyPair.privateKey, initiation.initiatorIdentity.agreementKey),
      x25519(ours.agreement.privateKey, initiation.ephemeralKey),
      x25519(preKeys.signedPreKey.keyPair.privateKey, initiation.ephemeralKey),
      ...(preKeys.oneTimePreKey ? [x25519(preKeys.oneTimePreKey.keyPair.privateKey, initiation.ephemeralKey)] : []),
    ]);
    const ss = mlKemDecapsulate(initiation.pqCiphertext, preKeys.pqPreKey.keyPair.secretKey);
    const ourPublic = { signingKey: ours.signing.publicKey, agreementKey: ours.agreement.publicKey };
    return {
      sharedSecret: await deriveSecret([...dhs, ss]),
      associatedData: sessionAssociatedData(
        { identity: initiation.initiatorIdentity, address: binding.remote },
        { identity: ourPublic, address: binding.local },
      ),
    };
  } catch (error) {
    if (error instanceof InvalidPeerKeyError || error instanceof MalformedInputError) return null;
    throw error;
  }
}
