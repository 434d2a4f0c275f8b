/** Conversions from store rows to wire messages. */
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { BundleSchema, DeliverSchema, DeviceInfoSchema } from '@pairwise/protocol/wire';
import type { BundleRow, DeviceRow, InboxRow } from '../store/store.js';

/** An inbox row as the Deliver push carries it. */
export function inboxRowToDeliver(row: InboxRow): MessageInitShape<typeof DeliverSchema> {
  const item = row.item;
  return {
    seq: row.seq,
    serverTime: row.serverTime,
    item:
      item.kind === 'message'
        ? {
            case: 'message',
            value: {
              senderAccountId: item.senderAccountId,
              senderDeviceId: item.senderDeviceId,
              clientMessageId: item.clientMessageId,
              content: item.content,
            },
          }
        : {
            case: 'expired',
            value: {
              clientMessageId: item.clientMessageId,
              recipientAccountId: item.recipientAccountId,
              recipientDeviceId: item.recipientDeviceId,
            },
          },
  };
}

/** A device as the linked-devices list shows it. */
export function deviceRowToInfo(row: DeviceRow, online: boolean): MessageInitShape<typeof DeviceInfoSchema> {
  return {
    deviceId: row.deviceId,
    kind: row.kind,
    name: row.name,
    linkedAt: row.linkedAt,
    lastActiveAt: row.lastActiveAt,
    online,
    temporary: row.temporary,
    userAgent: row.userAgent,
    network: row.network,
  };
}

/** A bundle as FetchBundles returns it. */
export function bundleRowToProto(row: BundleRow): MessageInitShape<typeof BundleSchema> {
  return {
    deviceId: row.device.deviceId,
    identity: { signingKey: row.device.signingKey, agreementKey: row.device.agreementKey },
    signedPreKey: row.signedPreKey,
    pqPreKey: row.pqPreKey,
    ...(row.oneTimePreKey ? { oneTimePreKey: row.oneTimePreKey } : {}),
  };
}
