/**
 * Prekeys (SPEC KEYS-*, PREKEYS-*): upload, and bundles for senders with each one-time prekey
 * handed out once.
 * @module
 */
import { ProtocolError } from '@pairwise/protocol/errors';
import { MAX_ONE_TIME_PREKEYS, MAX_PQ_ONE_TIME_PREKEYS } from '@pairwise/protocol/limits';
import type { FetchBundles, GetAccountDevices, UploadPreKeys } from '@pairwise/protocol/wire';
import type { Connection, ResponseResult } from '../ws/connection.js';
import { check, preKeyUpload } from '../validate.js';
import { accountDevices } from './account-devices.js';
import { bundleRowToProto } from './convert.js';
import { checkPreKeySignatures, preKeysLow } from './prekey-checks.js';

export async function uploadPreKeys(connection: Connection, body: UploadPreKeys): Promise<ResponseResult> {
  const { ctx } = connection;
  const self = connection.device;
  const device = self && (await ctx.store.getDevice(self.deviceId));
  if (!device) throw new ProtocolError('LOGGED_OUT');
  const upload = preKeyUpload(body.preKeys);
  await checkPreKeySignatures(device.signingKey, upload, false);
  const counts = await ctx.store.addPreKeys(device.deviceId, upload, { oneTime: MAX_ONE_TIME_PREKEYS, pqOneTime: MAX_PQ_ONE_TIME_PREKEYS });
  if (counts === 'too-many') {
    throw new ProtocolError(
      'BAD_REQUEST',
      `pre_keys would leave more than ${MAX_ONE_TIME_PREKEYS} one-time or ${MAX_PQ_ONE_TIME_PREKEYS} one-time ML-KEM prekeys on the server`,
    );
  }
  return { case: 'preKeyStatus', value: { oneTimePreKeys: counts.oneTime, pqOneTimePreKeys: counts.pqOneTime } };
}

export async function fetchBundles(connection: Connection, body: FetchBundles): Promise<ResponseResult> {
  const { ctx } = connection;
  const account = await accountDevices(ctx, body.accountId);
  if (account === null) throw new ProtocolError('UNKNOWN_ACCOUNT');
  check(body.deviceIds.length <= 64, 'device_ids');
  const rows = await ctx.store.takeBundles(body.accountId, body.deviceIds.length > 0 ? body.deviceIds : null);
  for (const row of rows) {
    if (preKeysLow(row.remaining)) {
      await ctx.bus.publish({ type: 'prekeys-low', deviceId: row.device.deviceId, remaining: row.remaining.oneTime, pqRemaining: row.remaining.pqOneTime });
    }
  }
  return { case: 'bundles', value: { account, bundles: rows.map(bundleRowToProto) } };
}

export async function getAccountDevices(connection: Connection, body: GetAccountDevices): Promise<ResponseResult> {
  const account = await accountDevices(connection.ctx, body.accountId);
  if (account === null) throw new ProtocolError('UNKNOWN_ACCOUNT');
  return { case: 'accountDevices', value: account };
}
