/**
 * Device authentication (SPEC AUTH-*): a signature over the connection's fresh nonce, the
 * server's origin and the device's clock. No bearer token exists.
 * @module
 */
import { ProtocolError } from '@pairwise/protocol/errors';
import type { Authenticate, RequestChallenge } from '@pairwise/protocol/wire';
import { securityOf } from '../account-security.js';
import { verifyDeviceProof } from '../device-proof.js';
import type { Connection, ResponseResult } from '../ws/connection.js';
import { bytesOf, check, deviceId } from '../validate.js';
import { preKeysLow } from './prekey-checks.js';
import { requireSupportedVersion } from './version-check.js';

export function requestChallenge(connection: Connection, _body: RequestChallenge): Promise<ResponseResult> {
  return Promise.resolve({ case: 'challenge', value: connection.issueChallenge() });
}

export async function authenticate(connection: Connection, body: Authenticate): Promise<ResponseResult> {
  const { ctx } = connection;
  if (connection.device !== null) throw new ProtocolError('ALREADY_AUTHENTICATED');
  requireSupportedVersion(body.protocolVersion, ctx.config);
  check(body.accountId.length > 0, 'account_id');
  deviceId(body.deviceId);
  const signature = bytesOf(body.signature, 64, 'signature');
  const nonce = connection.takeChallenge();
  if (nonce === null) throw new ProtocolError('CHALLENGE_EXPIRED');
  const now = ctx.clock.now();
  const { accountId, clientTime } = body;
  // The clock, then the device, then its account and signature (SPEC AUTH-1, AUTH-3).
  const device = await verifyDeviceProof(ctx, { nonce, accountId, deviceId: body.deviceId, clientTime, signature, purpose: 'connect' });
  // A removed device, or one that never existed, is told it is logged out and wipes itself.
  if (device === null) throw new ProtocolError('LOGGED_OUT');
  // A socket that closed while the checks above ran has already left the hub: registering it now
  // would leave a device "connected" for ever (never expiring, never a gone temporary session).
  if (!connection.isOpen) throw new ProtocolError('NOT_AUTHENTICATED', 'the connection closed');
  connection.device = { accountId: device.accountId, deviceId: device.deviceId, kind: device.kind, temporary: device.temporary };
  ctx.hub.addDevice(connection);
  // A temporary session that is back within its minute stays (SPEC TEMP-1).
  if (device.temporary) await ctx.store.setDisconnectedAt(device.deviceId, null);
  // A removal that ran while the checks above did (the phone, expiry, a temporary session's sweep)
  // closed the device's sockets before this one was registered: read the device again now that
  // it is, or the socket would stay signed in as a device that no longer exists. A removal from
  // here on finds the socket registered and closes it.
  if ((await ctx.store.getDevice(device.deviceId)) === null) {
    ctx.hub.remove(connection);
    connection.device = null;
    throw new ProtocolError('LOGGED_OUT');
  }
  connection.afterResponse(() => {
    ctx.hub.startDelivery(connection);
    return Promise.resolve();
  });
  await ctx.store.touchDevice(device.deviceId, now);
  const counts = await ctx.store.countPreKeys(device.deviceId);
  if (preKeysLow(counts)) {
    await ctx.bus.publish({ type: 'prekeys-low', deviceId: device.deviceId, remaining: counts.oneTime, pqRemaining: counts.pqOneTime });
  }
  // Every device learns the account's state at once: a lock, the "phone unused" warning (SPEC EXPIRY-4).
  const security = await securityOf(ctx, device.accountId);
  return {
    case: 'authenticated',
    value: {
      serverTime: now,
      oneTimePreKeys: counts.oneTime,
      pqOneTimePreKeys: counts.pqOneTime,
      // A device that has not attested yet (a companion just linked, or one from before protocol
      // version 2) sends AttestDevice now (SPEC ATTEST-1).
      attested: device.attestation !== null,
      ...(security ? { security } : {}),
    },
  };
}
