import type { MessageInitShape } from '@bufbuild/protobuf';
import type { AccountDevicesSchema } from '@pairwise/protocol/wire';
import type { ServerContext } from '../context.js';

/**
 * An account's key, signed list, registered device ids and the attestations of those that made
 * one, or `null` if there is no such account.
 */
export async function accountDevices(
  ctx: Pick<ServerContext, 'store'>,
  accountId: string,
): Promise<MessageInitShape<typeof AccountDevicesSchema> | null> {
  const [account, devices] = await Promise.all([ctx.store.getAccount(accountId), ctx.store.listDevices(accountId)]);
  if (account === null) return null;
  return {
    accountId,
    accountKey: account.identityKey,
    deviceList: account.deviceList,
    deviceIds: devices.map((device) => device.deviceId),
    attestations: devices.flatMap((device) => (device.attestation === null ? [] : [{ deviceId: device.deviceId, signature: device.attestation }])),
  };
}
