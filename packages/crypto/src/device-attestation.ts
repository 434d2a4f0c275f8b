/**
 * Device attestations: a device's own countersignature that it belongs to an account.
 *
 * The account key vouches for a device (its certificate and the signed device list); the
 * attestation is the other direction, made by the device's signing key over the account it joined:
 *
 *     signed = label || string(accountId) || fixed_32(account key)
 *              || string(deviceId) || fixed_32(IK.sig) || fixed_32(IK.dh)
 *
 * Without it, whoever holds some account key (a malicious server with an account of its own) could
 * list another account's device keys on its own list and have that device's messages attributed to
 * it. A device signs only for the account whose key it was given by its own primary (in the link
 * bundle, or its own registration), so a device entry is trusted only when both signatures agree
 * (SPEC ATTEST-1). This follows WhatsApp's ADV design: account signature plus device signature.
 * @module
 */
import { DOMAIN } from './domains.js';
import { ed25519Sign, ed25519Verify } from './ed25519.js';
import { ByteWriter } from './encoding.js';
import { assertBytes } from './errors.js';
import { checkId } from './device-certificate.js';
import type { DevicePublicIdentity } from './keys.js';
import type { CryptoKey } from './webcrypto.js';

/** What a device attests: that it, with these keys, is a device of this account. */
export interface DeviceAttestation {
  readonly accountId: string;
  /** The account identity key (Ed25519 public key), 32 bytes. */
  readonly accountKey: Uint8Array;
  readonly deviceId: string;
  readonly identity: DevicePublicIdentity;
}

function signedMessage(attestation: DeviceAttestation): Uint8Array {
  return new ByteWriter()
    .string(DOMAIN.deviceAttestation)
    .string(attestation.accountId)
    .fixed(attestation.accountKey, 32)
    .string(attestation.deviceId)
    .fixed(attestation.identity.signingKey, 32)
    .fixed(attestation.identity.agreementKey, 32)
    .finish();
}

/** Signs an attestation with the device's own signing key (`identity` must be its own keys). */
export async function signDeviceAttestation(deviceSigningKey: CryptoKey, attestation: DeviceAttestation): Promise<Uint8Array> {
  checkId(attestation.accountId, 'attestation.accountId');
  checkId(attestation.deviceId, 'attestation.deviceId');
  assertBytes(attestation.accountKey, 'attestation.accountKey', 32);
  assertBytes(attestation.identity.signingKey, 'attestation.identity.signingKey', 32);
  assertBytes(attestation.identity.agreementKey, 'attestation.identity.agreementKey', 32);
  return ed25519Sign(deviceSigningKey, signedMessage(attestation));
}

/**
 * Whether `signature` is the attestation of `attestation.identity.signingKey` for exactly this
 * account, account key, device id and keys. `false` for anything wrong; never throws for peer data.
 */
export async function verifyDeviceAttestation(attestation: DeviceAttestation, signature: Uint8Array): Promise<boolean> {
  try {
    if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
    return await ed25519Verify(attestation.identity.signingKey, signedMessage(attestation), signature);
  } catch {
    return false;
  }
}
