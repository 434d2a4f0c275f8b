/**
 * The linked-devices list, removal by the primary, a device's own log out, and the primary's
 * re-signed list (SPEC DEVICES-*, REVOKE-*). Only the primary changes the account's devices; a
 * companion can only remove itself.
 * @module
 */
import { ProtocolError } from '@pairwise/protocol/errors';
import type { ListDevices, LogOut, RemoveDevice, UpdateDeviceList } from '@pairwise/protocol/wire';
import { removeDevice as removeAndNotify } from '../device-removal.js';
import { coarseNetwork } from '../network.js';
import type { Connection, RequestScope, ResponseResult } from '../ws/connection.js';
import { deviceId, signedBody } from '../validate.js';
import { accountDevices } from './account-devices.js';
import { deviceRowToInfo } from './convert.js';
import { checkNewList } from './device-lists.js';

/** A device counts as online when active within this window, on any node. */
const ONLINE_WINDOW_MS = 2 * 60 * 1000;

function self(connection: Connection) {
  if (connection.device === null) throw new ProtocolError('NOT_AUTHENTICATED');
  return connection.device;
}

export async function listDevices(connection: Connection, _body: ListDevices): Promise<ResponseResult> {
  const { ctx } = connection;
  const { accountId } = self(connection);
  const [rows, account] = await Promise.all([ctx.store.listDevices(accountId), accountDevices(ctx, accountId)]);
  if (account === null) throw new ProtocolError('LOGGED_OUT');
  const now = ctx.clock.now();
  return {
    case: 'devices',
    value: {
      devices: rows.map((row) => deviceRowToInfo(row, ctx.hub.isOnline(row.deviceId) || now - row.lastActiveAt < ONLINE_WINDOW_MS)),
      account,
    },
  };
}

export async function removeDevice(connection: Connection, body: RemoveDevice): Promise<ResponseResult> {
  const { ctx } = connection;
  const { accountId } = self(connection);
  const targetId = deviceId(body.deviceId);
  const [account, devices] = await Promise.all([ctx.store.getAccount(accountId), ctx.store.listDevices(accountId)]);
  const target = devices.find((device) => device.deviceId === targetId);
  if (account === null || target === undefined) throw new ProtocolError('UNKNOWN_DEVICE');
  if (target.kind === 'primary') throw new ProtocolError('FORBIDDEN', 'the primary device cannot be removed');
  const newList = signedBody(body.deviceList, 'device_list');
  const list = await checkNewList(account, newList, devices.filter((device) => device.deviceId !== targetId), ctx.clock.now());
  const result = await removeAndNotify(ctx, target, 'phone', {
    update: { expectedVersion: account.deviceListVersion, newList, expiresAt: list.expiresAt },
    network: coarseNetwork(connection.origin.ipAddress),
  });
  if (result === 'stale-list') throw new ProtocolError('STALE_DEVICE_LIST');
  if (result === 'unknown-device') throw new ProtocolError('UNKNOWN_DEVICE');
  return { case: 'ok', value: {} };
}

export async function logOut(connection: Connection, _body: LogOut, request: RequestScope): Promise<ResponseResult> {
  const { ctx } = connection;
  const device = self(connection);
  // The primary holds the account key; its log out would end the account, which is not a log out.
  if (device.kind === 'primary') throw new ProtocolError('FORBIDDEN', 'the primary device cannot log out');
  const row = await ctx.store.getDevice(device.deviceId);
  if (row !== null) {
    await removeAndNotify(ctx, row, 'device', {
      network: coarseNetwork(connection.origin.ipAddress),
      // After the "ok" has gone out, so that the device hears it before its socket closes.
      notify: (notices) => request.afterResponse(notices),
    });
  }
  return { case: 'ok', value: {} };
}

export async function updateDeviceList(connection: Connection, body: UpdateDeviceList): Promise<ResponseResult> {
  const { ctx } = connection;
  const { accountId } = self(connection);
  const [account, devices] = await Promise.all([ctx.store.getAccount(accountId), ctx.store.listDevices(accountId)]);
  if (account === null) throw new ProtocolError('LOGGED_OUT');
  const newList = signedBody(body.deviceList, 'device_list');
  // The same devices again is fine: that is how the primary renews its list (SPEC DEVLIST-4).
  const list = await checkNewList(account, newList, devices, ctx.clock.now());
  if (!(await ctx.store.replaceDeviceList(accountId, { expectedVersion: account.deviceListVersion, newList, expiresAt: list.expiresAt }))) {
    throw new ProtocolError('STALE_DEVICE_LIST');
  }
  await ctx.bus.publish({ type: 'device-list', accountId });
  return { case: 'ok', value: {} };
}
