/**
 * Signed device lists: the account identity key states, under a monotonic version, exactly which
 * devices belong to the account and which keys each has.
 *
 * Senders encrypt only to devices on a list that verifies against the pinned account key, so the
 * server cannot slip in a "ghost" device (SPEC DEVLIST-*). The version and the validity window are
 * inside the signed bytes: a list signed as version n can never pass as version n+1, and a stale
 * list stops verifying when it expires.
 * @module
 */
import { checkId, MAX_ID_BYTES } from './device-certificate.js';
import { DOMAIN } from './domains.js';
import { ByteReader, ByteWriter } from './encoding.js';
import { assertBytes, assertNever } from './errors.js';
import { bytesEqual } from './bytes.js';
import type { DevicePublicIdentity } from './keys.js';
import { signBody, verifySignedBody, type SignedBody } from './signed-body.js';
import type { CryptoKey } from './webcrypto.js';

const LIST_FORMAT = 1;
/** Most devices one list may hold: a primary and its companions, with room to spare. */
export const MAX_LIST_DEVICES = 16;
/** How far in the future `issuedAt` may be before a list is refused, for clock differences. */
export const DEVICE_LIST_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** The role of a device in its account. */
export const DeviceKind = { Primary: 'primary', Companion: 'companion' } as const;
/** One of `DeviceKind`. */
export type DeviceKind = (typeof DeviceKind)[keyof typeof DeviceKind];

/** One device on a list. */
export interface DeviceListEntry {
  readonly deviceId: string;
  readonly kind: DeviceKind;
  readonly identity: DevicePublicIdentity;
  /** When the device was linked, ms since the Unix epoch. */
  readonly linkedAt: number;
}

/** What a device list states. */
export interface DeviceList {
  readonly accountId: string;
  /** Strictly increases with every change the primary signs. */
  readonly version: number;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly devices: readonly DeviceListEntry[];
}

/** A list as sent: the signed bytes and the account key's signature. */
export type SignedDeviceList = SignedBody;

/** What a verifier knows besides the list. */
export interface DeviceListCheck {
  /** The verifier's current time, ms since the Unix epoch. */
  readonly now: number;
  /** The highest version already accepted for this account; older lists are refused. */
  readonly minVersion?: number;
  /**
   * Accept a list whose `expiresAt` has passed. The caller then judges the list's age itself:
   * a sender that may trust only the primary of an expired list, or the primary re-signing its
   * own (SPEC DEVLIST-3). Everything else is checked as usual.
   */
  readonly allowExpired?: boolean;
}

function kindCode(kind: DeviceKind): number {
  switch (kind) {
    case DeviceKind.Primary:
      return 1;
    case DeviceKind.Companion:
      return 2;
    default:
      return assertNever(kind);
  }
}

function kindFromCode(code: number): DeviceKind | null {
  return code === 1 ? DeviceKind.Primary : code === 2 ? DeviceKind.Companion : null;
}

/** The structural rules every list obeys, whoever made it. `null` when they hold, else why not. */
function structuralProblem(list: DeviceList): string | null {
  if (list.devices.length === 0 || list.devices.length > MAX_LIST_DEVICES) return `1..${MAX_LIST_DEVICES} devices`;
  if (list.devices.filter((device) => device.kind === DeviceKind.Primary).length !== 1) return 'exactly one primary';
  if (new Set(list.devices.map((device) => device.deviceId)).size !== list.devices.length) return 'unique device ids';
  const keys = list.devices.flatMap((device) => [device.identity.signingKey, device.identity.agreementKey]);
  for (const [i, key] of keys.entries()) {
    if (keys.slice(i + 1).some((other) => bytesEqual(key, other))) return 'distinct device keys';
  }
  if (list.expiresAt <= list.issuedAt) return 'expiresAt after issuedAt';
  return null;
}

/** Signs a device list with the account identity key (primary device only). */
export async function signDeviceList(accountPrivateKey: CryptoKey, list: DeviceList): Promise<SignedDeviceList> {
  checkId(list.accountId, 'list.accountId');
  const writer = new ByteWriter()
    .u8(LIST_FORMAT)
    .string(list.accountId)
    .u64(list.version)
    .u64(list.issuedAt)
    .u64(list.expiresAt)
    .u32(list.devices.length);
  for (const [i, device] of list.devices.entries()) {
    checkId(device.deviceId, `list.devices[${i}].deviceId`);
    assertBytes(device.identity.signingKey, `list.devices[${i}].identity.signingKey`, 32);
    assertBytes(device.identity.agreementKey, `list.devices[${i}].identity.agreementKey`, 32);
    writer
      .string(device.deviceId)
      .u8(kindCode(device.kind))
      .fixed(device.identity.signingKey, 32)
      .fixed(device.identity.agreementKey, 32)
      .u64(device.linkedAt);
  }
  const problem = structuralProblem(list);
  if (problem !== null) throw new RangeError(`list must have ${problem}`);
  return signBody(accountPrivateKey, DOMAIN.deviceList, writer.finish());
}

/**
 * Decodes a list body WITHOUT checking its signature or its rules: only for bytes this code
 * verified before it stored them (the server reading back its own rows, for instance a schema
 * migration that needs a stored list's expiry). `null` when the bytes are not a list body.
 */
export function decodeVerifiedDeviceListBody(body: Uint8Array): DeviceList | null {
  try {
    return decode(body);
  } catch {
    return null;
  }
}

function decode(body: Uint8Array): DeviceList | null {
  const reader = new ByteReader(body);
  if (reader.u8() !== LIST_FORMAT) return null;
  const accountId = reader.string(MAX_ID_BYTES);
  const version = reader.u64();
  const issuedAt = reader.u64();
  const expiresAt = reader.u64();
  const count = reader.u32();
  if (count > MAX_LIST_DEVICES) return null;
  const devices: DeviceListEntry[] = [];
  for (let i = 0; i < count; i++) {
    const deviceId = reader.string(MAX_ID_BYTES);
    const kind = kindFromCode(reader.u8());
    if (kind === null) return null;
    const identity = { signingKey: reader.fixed(32), agreementKey: reader.fixed(32) };
    devices.push({ deviceId, kind, identity, linkedAt: reader.u64() });
  }
  reader.end();
  return { accountId, version, issuedAt, expiresAt, devices };
}

/**
 * Checks a device list against the account's public key, the clock and the last version seen,
 * and decodes it. Returns `null` for a bad signature, an expired or future-dated list, an older
 * version than `minVersion`, or a list breaking the structural rules; never throws for a peer's data.
 */
export async function verifyDeviceList(
  signed: SignedDeviceList,
  accountPublicKey: Uint8Array,
  check: DeviceListCheck,
): Promise<DeviceList | null> {
  const body = await verifySignedBody(signed, accountPublicKey, DOMAIN.deviceList);
  if (body === null) return null;
  let list: DeviceList | null;
  try {
    list = decode(body);
  } catch {
    return null;
  }
  if (list === null || structuralProblem(list) !== null) return null;
  if (list.version < (check.minVersion ?? 0)) return null;
  if (list.issuedAt > check.now + DEVICE_LIST_CLOCK_SKEW_MS) return null;
  if (list.expiresAt <= check.now && check.allowExpired !== true) return null;
  return list;
}
