/**
 * Linking a companion by QR code (SPEC LINK-*). The companion, not yet a device, asks for a link
 * token and registers its future keys and prekeys with it; the primary scans the QR code, looks
 * the request up, and approves it with a new signed list and the sealed link bundle.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { bytesEqual } from '@pairwise/crypto/bytes';
import { verifyDeviceCertificate } from '@pairwise/crypto/device-certificate';
import { MAX_LINK_BUNDLE_BYTES } from '@pairwise/crypto/link-bundle';
import { ProtocolError } from '@pairwise/protocol/errors';
import { LINK_TOKEN_BYTES, LINK_TOKEN_TTL_MS, MAX_LINK_TOKENS_PER_CONNECTION } from '@pairwise/protocol/limits';
import type { ApproveLink, CreateLinkToken, GetLinkRequest } from '@pairwise/protocol/wire';
import { logSecurityEvent } from '../account-security.js';
import { coarseNetwork, sameNetwork } from '../network.js';
import { checkPin } from '../pin-check.js';
import type { Connection, ResponseResult } from '../ws/connection.js';
import { bytesOf, check, deviceId, identityKeys, label, preKeyUpload, signedBody } from '../validate.js';
import { checkNewList } from './device-lists.js';
import { checkPreKeySignatures } from './prekey-checks.js';
import { requireSupportedVersion } from './version-check.js';

/** The database keeps only a hash of each token: a copy of it cannot be used to link. */
function tokenHash(token: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(token).digest());
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

export async function createLinkToken(connection: Connection, body: CreateLinkToken): Promise<ResponseResult> {
  const { ctx } = connection;
  if (connection.device !== null) throw new ProtocolError('ALREADY_AUTHENTICATED');
  requireSupportedVersion(body.protocolVersion, ctx.config);
  if (connection.linkTokensIssued >= MAX_LINK_TOKENS_PER_CONNECTION) throw new ProtocolError('TOO_MANY_LINK_TOKENS');
  const id = deviceId(body.deviceId);
  const identity = identityKeys(body.identity);
  const preKeys = preKeyUpload(body.preKeys);
  await checkPreKeySignatures(identity.signingKey, preKeys, true);
  const token = new Uint8Array(randomBytes(LINK_TOKEN_BYTES));
  const hash = tokenHash(token);
  const now = ctx.clock.now();
  // Earlier tokens of this connection stay valid until they expire (at most 60 s): the phone
  // may be approving a code scanned just before the companion showed the next one.
  await ctx.store.createPendingLink({
    tokenHash: hash,
    createdAt: now,
    expiresAt: now + LINK_TOKEN_TTL_MS,
    ipAddress: connection.origin.ipAddress,
    userAgent: label(connection.origin.userAgent, 256),
    deviceName: label(body.deviceName) || 'Browser',
    temporary: body.temporary,
    deviceId: id,
    ...identity,
    preKeys,
  });
  // A companion that went away while the checks above ran left the hub already: its code dies now.
  if (!connection.isOpen) {
    await ctx.store.deletePendingLink(hash);
    throw new ProtocolError('LINK_TOKEN_INVALID', 'the connection closed');
  }
  connection.linkTokensIssued += 1;
  ctx.hub.waitForLink(hex(hash), connection);
  return { case: 'linkToken', value: { token, expiresAt: now + LINK_TOKEN_TTL_MS } };
}

async function pendingLink(connection: Connection, token: Uint8Array) {
  bytesOf(token, LINK_TOKEN_BYTES, 'token');
  const link = await connection.ctx.store.getPendingLink(tokenHash(token), connection.ctx.clock.now());
  if (link === null) throw new ProtocolError('LINK_TOKEN_INVALID');
  return link;
}

export async function getLinkRequest(connection: Connection, body: GetLinkRequest): Promise<ResponseResult> {
  const primary = connection.device;
  if (primary === null) throw new ProtocolError('NOT_AUTHENTICATED');
  const link = await pendingLink(connection, body.token);
  const security = await connection.ctx.store.getSecurity(primary.accountId);
  return {
    case: 'linkRequest',
    value: {
      deviceName: link.deviceName,
      userAgent: link.userAgent,
      ipAddress: link.ipAddress,
      createdAt: link.createdAt,
      expiresAt: link.expiresAt,
      // Both addresses as this server sees them (behind trusted proxies only, SPEC LINK-6): a
      // phishing page relaying the code links a browser somewhere else, and the phone says so.
      sameNetwork: sameNetwork(connection.origin.ipAddress, link.ipAddress),
      temporary: link.temporary,
      pinRequired: security?.pinHash != null,
    },
  };
}

export async function approveLink(connection: Connection, body: ApproveLink): Promise<ResponseResult> {
  const { ctx } = connection;
  const primary = connection.device;
  if (primary === null) throw new ProtocolError('NOT_AUTHENTICATED');
  const link = await pendingLink(connection, body.token);
  check(body.sealedBundle.length > 0 && body.sealedBundle.length <= MAX_LINK_BUNDLE_BYTES, 'sealed_bundle');
  const [account, devices, security] = await Promise.all([
    ctx.store.getAccount(primary.accountId),
    ctx.store.listDevices(primary.accountId),
    ctx.store.getSecurity(primary.accountId),
  ]);
  if (account === null || security === null) throw new ProtocolError('LOGGED_OUT');
  // Two-step verification (SPEC PIN-2): whatever the client sends, no PIN, no link.
  if (security.pinHash !== null && body.pin === '') throw new ProtocolError('PIN_REQUIRED');
  const certificate = await verifyDeviceCertificate(signedBody(body.deviceCertificate, 'device_certificate'), account.identityKey);
  const certificateMatches =
    certificate !== null &&
    certificate.accountId === account.accountId &&
    certificate.deviceId === link.deviceId &&
    bytesEqual(certificate.identity.signingKey, link.signingKey) &&
    bytesEqual(certificate.identity.agreementKey, link.agreementKey);
  if (!certificateMatches) throw new ProtocolError('INVALID_DEVICE_LIST', 'the device certificate does not match the request');
  const now = ctx.clock.now();
  const newList = signedBody(body.deviceList, 'device_list');
  const companion = { deviceId: link.deviceId, kind: 'companion' as const, signingKey: link.signingKey, agreementKey: link.agreementKey };
  const list = await checkNewList(account, newList, [...devices, companion], now);
  // After the request is known to be well formed, so that a malformed one costs no PIN try.
  const companionNetwork = coarseNetwork(link.ipAddress);
  if (security.pinHash !== null) {
    const attempt = { accountId: account.accountId, deviceId: link.deviceId, deviceName: link.deviceName, network: coarseNetwork(connection.origin.ipAddress) };
    await ctx.guards.pinWork.run(account.accountId, () => checkPin(ctx, attempt, body.pin));
  }
  const result = await ctx.store.linkCompanion({
    tokenHash: link.tokenHash,
    now,
    accountId: account.accountId,
    expectedListVersion: account.deviceListVersion,
    newList,
    newListExpiresAt: list.expiresAt,
    maxCompanions: ctx.config.maxCompanions,
    device: {
      ...companion,
      accountId: account.accountId,
      name: link.deviceName,
      linkedAt: now,
      lastActiveAt: now,
      temporary: link.temporary,
      userAgent: link.userAgent,
      network: companionNetwork,
      // A temporary device's minute runs until it first connects as a device (SPEC TEMP-1).
      disconnectedAt: link.temporary ? now : null,
      // The companion attests once it has opened the bundle and knows the account (SPEC ATTEST-1).
      attestation: null,
    },
  });
  switch (result) {
    case 'linked':
      break;
    case 'token-invalid':
      throw new ProtocolError('LINK_TOKEN_INVALID');
    case 'stale-list':
      throw new ProtocolError('STALE_DEVICE_LIST');
    case 'too-many-companions':
      throw new ProtocolError('TOO_MANY_COMPANIONS', `at most ${ctx.config.maxCompanions}`);
    case 'device-id-taken':
      throw new ProtocolError('DEVICE_ID_TAKEN');
  }
  await logSecurityEvent(ctx, account.accountId, { kind: 'device-linked', deviceId: link.deviceId, deviceName: link.deviceName, network: companionNetwork });
  await ctx.bus.publish({ type: 'link-approved', tokenHash: hex(link.tokenHash), accountId: account.accountId, sealedBundle: body.sealedBundle });
  await ctx.bus.publish({ type: 'device-list', accountId: account.accountId });
  return { case: 'ok', value: {} };
}
