/**
 * Safety numbers: a fingerprint of two accounts' identity keys that both people can compare in
 * person, as 60 digits or by scanning a QR code.
 *
 * Each account's half follows Signal's numeric fingerprint construction: 5,200 iterations of
 * SHA-512 over a version, the key and the account id (to make a targeted collision costly), the
 * first 30 bytes read as six 5-byte big-endian numbers, each taken mod 100,000 as five digits.
 * The two halves are put in a fixed (sorted) order, so both phones show the same 60 digits and
 * the same QR payload.
 * @module
 */
import { bytesEqual, concatBytes } from './bytes.js';
import { DOMAIN } from './domains.js';
import { ByteWriter } from './encoding.js';
import { assertBytes } from './errors.js';
import { sha512 } from './sha.js';

/** Hash iterations per half (as Signal). */
export const SAFETY_NUMBER_ITERATIONS = 5200;
const FINGERPRINT_VERSION = 0;
const QR_VERSION = 1;

/** One account as the safety number sees it. */
export interface SafetyNumberParty {
  readonly accountId: string;
  /** The account identity key (Ed25519 public key). */
  readonly identityKey: Uint8Array;
}

/** A safety number in both of its forms. */
export interface SafetyNumber {
  /** 60 digits, identical on both sides. */
  readonly digits: string;
  /** The same, grouped in twelve blocks of five for display. */
  readonly groups: readonly string[];
  /** What the QR code holds: version || first half (32) || second half (32). */
  readonly qrPayload: Uint8Array;
}

async function fingerprint(party: SafetyNumberParty): Promise<Uint8Array> {
  assertBytes(party.identityKey, 'identityKey', 32);
  if (typeof party.accountId !== 'string' || party.accountId.length === 0) throw new TypeError('accountId must be a non-empty string');
  let hash = await sha512(
    new ByteWriter()
      .string(DOMAIN.safetyNumber)
      .u8(FINGERPRINT_VERSION)
      .fixed(party.identityKey, 32)
      .string(party.accountId)
      .finish(),
  );
  for (let i = 1; i < SAFETY_NUMBER_ITERATIONS; i++) hash = await sha512(concatBytes(hash, party.identityKey));
  return hash.slice(0, 32);
}

function digitsOf(fingerprintBytes: Uint8Array): string {
  let out = '';
  for (let chunk = 0; chunk < 6; chunk++) {
    let value = 0;
    for (let i = 0; i < 5; i++) value = value * 256 + (fingerprintBytes[chunk * 5 + i] as number);
    out += String(value % 100_000).padStart(5, '0');
  }
  return out;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  }
  return a.length - b.length;
}

/** Computes the safety number of two accounts; the order of the arguments does not matter. */
export async function computeSafetyNumber(a: SafetyNumberParty, b: SafetyNumberParty): Promise<SafetyNumber> {
  const halves = await Promise.all([fingerprint(a), fingerprint(b)]);
  halves.sort(compareBytes);
  const [first, second] = halves;
  const digits = digitsOf(first) + digitsOf(second);
  return {
    digits,
    groups: digits.match(/\d{5}/g) ?? [],
    qrPayload: concatBytes(Uint8Array.of(QR_VERSION), first, second),
  };
}

/** Whether a scanned QR payload matches our own safety number, in constant time. */
export function safetyNumberQrMatches(ours: SafetyNumber, scanned: Uint8Array): boolean {
  if (!(scanned instanceof Uint8Array)) return false;
  return bytesEqual(ours.qrPayload, scanned);
}
