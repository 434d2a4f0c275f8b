/**
 * A device's attestation (SPEC ATTEST-1): its own countersignature that it belongs to its account.
 * The primary sends it with its registration; a companion sends it once it has opened the link
 * bundle, right after its first authentication. Until then the companion is registered but not
 * current: no message is sent to it and none from it is trusted.
 * @module
 */
import { verifyDeviceAttestation } from '@pairwise/crypto/device-attestation';
import { ProtocolError } from '@pairwise/protocol/errors';
import type { AttestDevice } from '@pairwise/protocol/wire';
import type { Connection, ResponseResult } from '../ws/connection.js';
import { bytesOf } from '../validate.js';

export async function attestDevice(connection: Connection, body: AttestDevice): Promise<ResponseResult> {
  const { ctx } = connection;
  const self = connection.device;
  if (self === null) throw new ProtocolError('NOT_AUTHENTICATED');
  const signature = bytesOf(body.signature, 64, 'signature');
  const [device, account] = await Promise.all([ctx.store.getDevice(self.deviceId), ctx.store.getAccount(self.accountId)]);
  if (device === null || account === null) throw new ProtocolError('LOGGED_OUT');
  const valid = await verifyDeviceAttestation(
    {
      accountId: account.accountId,
      accountKey: account.identityKey,
      deviceId: device.deviceId,
      identity: { signingKey: device.signingKey, agreementKey: device.agreementKey },
    },
    signature,
  );
  if (!valid) throw new ProtocolError('INVALID_ATTESTATION');
  // Ed25519 signatures are deterministic: the same device attesting again stores the same bytes.
  if (!(await ctx.store.setAttestation(device.deviceId, signature))) throw new ProtocolError('LOGGED_OUT');
  // The device is current from now on: its account and contacts re-read the account's devices.
  await ctx.bus.publish({ type: 'device-list', accountId: account.accountId });
  return { case: 'ok', value: {} };
}
