import { verifyPqPreKey, verifySignedPreKey } from '@pairwise/crypto/keys';
import { ProtocolError } from '@pairwise/protocol/errors';
import { PQ_PREKEYS_LOW_THRESHOLD, PREKEYS_LOW_THRESHOLD } from '@pairwise/protocol/limits';
import type { PreKeyCounts, PreKeyUploadRow } from '../store/store.js';

/** Whether a device should be asked for more one-time prekeys of either kind (SPEC PREKEYS-1). */
export function preKeysLow(counts: PreKeyCounts): boolean {
  return counts.oneTime < PREKEYS_LOW_THRESHOLD || counts.pqOneTime < PQ_PREKEYS_LOW_THRESHOLD;
}

/**
 * Checks that uploaded signed prekeys verify under the device's signing key (SPEC KEYS-1): a
 * device cannot publish prekeys that senders would refuse, and nobody else can publish for it.
 */
export async function checkPreKeySignatures(signingKey: Uint8Array, upload: PreKeyUploadRow, required: boolean): Promise<void> {
  if (required && (upload.signedPreKey === null || upload.pqPreKey === null)) {
    throw new ProtocolError('INVALID_PREKEYS', 'a signed prekey and an ML-KEM prekey are required');
  }
  const checks = await Promise.all([
    upload.signedPreKey ? verifySignedPreKey(signingKey, upload.signedPreKey) : true,
    upload.pqPreKey ? verifyPqPreKey(signingKey, upload.pqPreKey) : true,
    // One-time ML-KEM prekeys are signed like the last-resort one (PQXDH section 2.3).
    ...upload.pqOneTimePreKeys.map((key) => verifyPqPreKey(signingKey, key)),
  ]);
  if (!checks.every(Boolean)) throw new ProtocolError('INVALID_PREKEYS');
}
