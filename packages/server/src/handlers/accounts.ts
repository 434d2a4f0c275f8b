/**
 * Account registration by a primary device (SPEC ACCOUNT-*).
 * @module
 */
import { timingSafeEqual } from 'node:crypto';
import { verifyDeviceAttestation } from '@pairwise/crypto/device-attestation';
import { isUsername } from '@pairwise/protocol/ids';
import { ProtocolError } from '@pairwise/protocol/errors';
import type { Register } from '@pairwise/protocol/wire';
import { RegistrationMode, type Config } from '../config.js';
import { coarseNetwork, requesterKey } from '../network.js';
import type { Connection, ResponseResult } from '../ws/connection.js';
import { bytesOf, deviceId, identityKeys, label, preKeyUpload, signedBody } from '../validate.js';
import { checkNewList } from './device-lists.js';
import { checkPreKeySignatures } from './prekey-checks.js';
import { requireSupportedVersion } from './version-check.js';

function inviteAccepted(config: Config, code: string): boolean {
  if (config.registration === RegistrationMode.Open) return true;
  const given = Buffer.from(code);
  return config.inviteCodes.some((known) => {
    const expected = Buffer.from(known);
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}

export async function register(connection: Connection, body: Register): Promise<ResponseResult> {
  const { ctx } = connection;
  if (connection.device !== null) throw new ProtocolError('ALREADY_AUTHENTICATED');
  requireSupportedVersion(body.protocolVersion, ctx.config);
  if (!isUsername(body.username)) throw new ProtocolError('USERNAME_INVALID');
  if (!inviteAccepted(ctx.config, body.inviteCode)) {
    throw new ProtocolError(ctx.config.registration === RegistrationMode.Invite && body.inviteCode === '' ? 'REGISTRATION_CLOSED' : 'INVITE_INVALID');
  }
  // A taken username is refused before anything costly, and costs no try; the write below still
  // decides a race for the same name.
  if ((await ctx.store.getAccount(body.username)) !== null) throw new ProtocolError('USERNAME_TAKEN');
  // Counted once the request is known to be one (the cheap checks above), before the signature
  // checks and the write (SPEC LIMIT-8).
  const requester = requesterKey(connection.origin.ipAddress);
  const allowance = ctx.guards.registrations.take(requester);
  if (!allowance.ok) throw new ProtocolError('RATE_LIMITED', 'too many new accounts from this address', { retryAt: allowance.retryAt });
  const accountKey = bytesOf(body.accountKey, 32, 'account_key');
  const id = deviceId(body.deviceId);
  const identity = identityKeys(body.identity);
  const preKeys = preKeyUpload(body.preKeys);
  await checkPreKeySignatures(identity.signingKey, preKeys, true);
  const now = ctx.clock.now();
  const signed = signedBody(body.deviceList, 'device_list');
  const list = await checkNewList(
    { accountId: body.username, identityKey: accountKey, deviceListVersion: 0 },
    signed,
    [{ deviceId: id, kind: 'primary', ...identity }],
    now,
  );
  // The primary's own countersignature over the account it creates (SPEC ATTEST-1).
  const attestation = bytesOf(body.attestation, 64, 'attestation');
  if (!(await verifyDeviceAttestation({ accountId: body.username, accountKey, deviceId: id, identity }, attestation))) {
    throw new ProtocolError('INVALID_ATTESTATION');
  }
  const result = await ctx.store.createAccount({
    account: {
      accountId: body.username,
      identityKey: accountKey,
      deviceList: signed,
      deviceListVersion: list.version,
      deviceListExpiresAt: list.expiresAt,
      createdAt: now,
    },
    device: {
      deviceId: id,
      accountId: body.username,
      kind: 'primary',
      ...identity,
      name: label(body.deviceName) || 'Phone',
      linkedAt: now,
      lastActiveAt: now,
      temporary: false,
      userAgent: label(connection.origin.userAgent, 256),
      network: coarseNetwork(connection.origin.ipAddress),
      disconnectedAt: null,
      attestation,
    },
    preKeys,
  });
  if (result === 'username-taken') throw new ProtocolError('USERNAME_TAKEN');
  if (result === 'device-id-taken') throw new ProtocolError('DEVICE_ID_TAKEN');
  return { case: 'registered', value: { accountId: body.username } };
}
