/**
 * Device certificates: the account identity key vouches for one device's identity keys.
 *
 * The certificate is signed over `label || body`, where the body is the canonical encoding of
 * its fields; the label makes it impossible for the same signature to verify as anything else
 * (SPEC CRYPTO-4). Certificates travel as the exact signed bytes, so a verifier checks the
 * bytes it received and only then decodes them.
 * @module
 */
import { utf8 } from './bytes.js';
import { DOMAIN } from './domains.js';
import { ByteReader, ByteWriter } from './encoding.js';
import { assertBytes } from './errors.js';
import type { DevicePublicIdentity } from './keys.js';
import { signBody, verifySignedBody, type SignedBody } from './signed-body.js';
import type { CryptoKey } from './webcrypto.js';

const CERTIFICATE_FORMAT = 1;
/** Longest account or device id, in UTF-8 bytes. */
export const MAX_ID_BYTES = 128;

/** What a device certificate states. */
export interface DeviceCertificate {
  readonly accountId: string;
  readonly deviceId: string;
  readonly identity: DevicePublicIdentity;
  /** Milliseconds since the Unix epoch. */
  readonly issuedAt: number;
}

/** A certificate as sent: the signed bytes and the account key's signature over them. */
export type SignedDeviceCertificate = SignedBody;

/**
 * Checks an id before it is signed: a non-empty string of at most MAX_ID_BYTES in UTF-8, the
 * same measure the reader applies, so that whatever is signed can also be verified.
 */
export function checkId(id: string, name: string): void {
  if (typeof id !== 'string' || id.length === 0) throw new TypeError(`${name} must be a non-empty string`);
  if (utf8(id).length > MAX_ID_BYTES) throw new RangeError(`${name} is longer than ${MAX_ID_BYTES} bytes of UTF-8`);
}

/** Signs a certificate with the account identity key (primary device only). */
export async function signDeviceCertificate(
  accountPrivateKey: CryptoKey,
  certificate: DeviceCertificate,
): Promise<SignedDeviceCertificate> {
  checkId(certificate.accountId, 'certificate.accountId');
  checkId(certificate.deviceId, 'certificate.deviceId');
  assertBytes(certificate.identity.signingKey, 'certificate.identity.signingKey', 32);
  assertBytes(certificate.identity.agreementKey, 'certificate.identity.agreementKey', 32);
  const body = new ByteWriter()
    .u8(CERTIFICATE_FORMAT)
    .string(certificate.accountId)
    .string(certificate.deviceId)
    .fixed(certificate.identity.signingKey, 32)
    .fixed(certificate.identity.agreementKey, 32)
    .u64(certificate.issuedAt)
    .finish();
  return signBody(accountPrivateKey, DOMAIN.deviceCertificate, body);
}

/**
 * Checks a certificate against the account's public key and decodes it. Returns `null` when the
 * signature, the format or any field is wrong; never throws for what a peer sent.
 */
export async function verifyDeviceCertificate(
  signed: SignedDeviceCertificate,
  accountPublicKey: Uint8Array,
): Promise<DeviceCertificate | null> {
  const body = await verifySignedBody(signed, accountPublicKey, DOMAIN.deviceCertificate);
  if (body === null) return null;
  try {
    const reader = new ByteReader(body);
    if (reader.u8() !== CERTIFICATE_FORMAT) return null;
    const certificate = {
      accountId: reader.string(MAX_ID_BYTES),
      deviceId: reader.string(MAX_ID_BYTES),
      identity: { signingKey: reader.fixed(32), agreementKey: reader.fixed(32) },
      issuedAt: reader.u64(),
    };
    reader.end();
    return certificate;
  } catch {
    return null;
  }
}
