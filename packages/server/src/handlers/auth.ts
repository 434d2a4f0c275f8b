/**
 * Device authentication (SPEC AUTH-*): a signature over the connection's fresh nonce, the
 * server's origin and the device's clock. No bearer token exists.
 * @module
 */
import { ProtocolError, type WireErrorCode } from '@pairwise/protocol/errors';
import { MAX_SOCKETS_PER_DEVICE } from '@pairwise/protocol/limits';
import type { Authenticate, RequestChallenge } from '@pairwise/protocol/wire';
import { securityOf } from '../account-security.js';
import { verifyDeviceProof } from '../device-proof.js';
import { AuthFailure } from '../metrics.js';
import type { DeviceRow } from '../store/store.js';
import type { Connection, RequestScope, ResponseResult } from '../ws/connection.js';
import { bytesOf, check, deviceId } from '../validate.js';
import { preKeysLow } from './prekey-checks.js';
import { requireSupportedVersion } from './version-check.js';

export function requestChallenge(connection: Connection, _body: RequestChallenge): Promise<ResponseResult> {
  return Promise.resolve({ case: 'challenge', value: connection.issueChallenge() });
}

/**
 * One Authenticate at a time per socket (SPEC AUTH-4): the checks below await the store, and two
 * racing through them would both register the socket, which would then outlive its removal.
 */
export async function authenticate(connection: Connection, body: Authenticate, request: RequestScope): Promise<ResponseResult> {
  if (connection.device !== null || connection.authenticating) throw new ProtocolError('ALREADY_AUTHENTICATED');
  connection.authenticating = true;
  try {
    return await authenticateOnce(connection, body, request);
  } catch (error) {
    const reason = error instanceof ProtocolError ? AUTH_FAILURE_OF[error.code] : undefined;
    if (reason !== undefined) connection.ctx.metrics.authFailed(reason);
    throw error;
  } finally {
    connection.authenticating = false;
  }
}

/**
 * The refusals of the device's proof, for the metrics. Others (a socket that closed meanwhile, a
 * store failure) are no verdict on the device and are counted only as refused requests.
 */
const AUTH_FAILURE_OF: Partial<Record<WireErrorCode, AuthFailure>> = {
  UPDATE_REQUIRED: AuthFailure.Version,
  BAD_REQUEST: AuthFailure.Malformed,
  CHALLENGE_EXPIRED: AuthFailure.Challenge,
  CLOCK_SKEW: AuthFailure.ClockSkew,
  LOGGED_OUT: AuthFailure.UnknownDevice,
  AUTH_FAILED: AuthFailure.Signature,
};

async function authenticateOnce(connection: Connection, body: Authenticate, request: RequestScope): Promise<ResponseResult> {
  const { ctx } = connection;
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
  // A device holds a bounded number of sockets (SPEC LIMIT-1). The newest is the one its client
  // uses: the oldest go, as sockets a dropped network left behind (until the keepalive noticed).
  const others = ctx.hub.connectionsOf(device.deviceId);
  for (const stale of others.slice(0, Math.max(0, others.length - MAX_SOCKETS_PER_DEVICE + 1))) {
    stale.fail(0, new ProtocolError('TOO_MANY_CONNECTIONS'));
  }
  connection.signIn({ accountId: device.accountId, deviceId: device.deviceId, kind: device.kind, temporary: device.temporary });
  ctx.hub.addDevice(connection);
  try {
    return await signedIn(connection, device, now, request);
  } catch (error) {
    // Signed in but not told so: the socket must not hold one of the device's slots without
    // delivery ever starting; the client signs in again.
    ctx.hub.remove(connection);
    connection.device = null;
    throw error;
  }
}

/** The rest of an authentication, once the socket is registered as the device. */
async function signedIn(connection: Connection, device: DeviceRow, now: number, request: RequestScope): Promise<ResponseResult> {
  const { ctx } = connection;
  // A temporary session that is back within its minute stays (SPEC TEMP-1).
  if (device.temporary) await ctx.store.setDisconnectedAt(device.deviceId, null);
  // A removal that ran while the checks above did (the phone, expiry, a temporary session's sweep)
  // closed the device's sockets before this one was registered: read the device again now that
  // it is, or the socket would stay signed in as a device that no longer exists. A removal from
  // here on finds the socket registered and closes it.
  if ((await ctx.store.getDevice(device.deviceId)) === null) throw new ProtocolError('LOGGED_OUT');
  request.afterResponse(() => {
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
