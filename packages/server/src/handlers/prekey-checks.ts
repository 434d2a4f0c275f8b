import { verifyPqPreKey, verifySignedPreKey } from '@pairwise/crypto/keys';
import { ProtocolError } from '@pairwise/protocol/errors';
import type { PreKeyUploadRow } from '../store/store.js';

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
  ]);
  if (!checks.every(Boolean)) throw new ProtocolError('INVALID_PREKEYS');
}
