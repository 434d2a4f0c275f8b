/**
 * Every domain-separation label of the cryptographic core, in one place.
 *
 * A signature or key derivation for one purpose must never be valid for another (SPEC CRYPTO-4):
 * each signed message and each KDF input starts with one of these labels, length-prefixed, so a
 * device certificate can never verify as a device list, nor a prekey signature as either.
 * Changing a label is a protocol version change.
 * @module
 */
export const DOMAIN = {
  signedPreKey: 'Pairwise/v1/signed-prekey',
  pqPreKey: 'Pairwise/v1/pq-prekey',
  deviceCertificate: 'Pairwise/v1/device-certificate',
  deviceList: 'Pairwise/v1/device-list',
  deviceAuth: 'Pairwise/v1/device-auth',
  deviceLogOut: 'Pairwise/v1/device-log-out',
  /** A device's countersignature over the account it belongs to (SPEC ATTEST-1). */
  deviceAttestation: 'Pairwise/v1/device-attestation',
  /** Version 2: the associated data also names both accounts and both devices (SPEC PQXDH-1). */
  sessionAssociatedData: 'Pairwise/v2/session-ad',
  ratchetRoot: 'Pairwise/v1/ratchet-root',
  ratchetMessage: 'Pairwise/v1/ratchet-message',
  linkBundle: 'Pairwise/v1/link-bundle',
  /** A record of a companion's locked history, sealed to its history key. */
  historyRecord: 'Pairwise/v1/history-record',
  /** The history private key wrapped under the key derived from the app-lock passcode. */
  historyKeyWrap: 'Pairwise/v1/history-key-wrap',
  safetyNumber: 'Pairwise/v1/safety-number',
  /** PQXDH section 2.2 asks for an info string naming the curve, hash and KEM. */
  pqxdhInfo: 'Pairwise_PQXDH_CURVE25519_SHA-256_ML-KEM-768',
} as const;
