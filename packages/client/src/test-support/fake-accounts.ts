/**
 * Accounts made in the test's own process for the fake server: keys, prekeys, a signed device
 * list and the device's attestation, as a real registration would leave them, plus the report a
 * server gives of the account and the bundle it hands out.
 * @module
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { randomBytes, toHex } from '@pairwise/crypto/bytes';
import { signDeviceAttestation } from '@pairwise/crypto/device-attestation';
import { signDeviceList } from '@pairwise/crypto/device-list';
import {
  generateAccountIdentity,
  generateDeviceIdentity,
  generateOneTimePreKeys,
  generatePqPreKey,
  generateSignedPreKey,
  publicIdentity,
  signedPreKeyPublic,
  type AccountIdentity,
  type DeviceIdentity,
  type OneTimePreKey,
  type PqPreKey,
  type SignedPreKey,
} from '@pairwise/crypto/keys';
import type { PreKeyBundle } from '@pairwise/crypto/pqxdh';
import type { PreKeySource } from '@pairwise/crypto/session';
import type { AccountDevicesSchema, BundleSchema } from '@pairwise/protocol/wire';
import { StoreTable, type ClientStore } from '../client-store.js';

/** An account with one device, made here. */
export interface FakeAccount {
  readonly accountId: string;
  readonly deviceId: string;
  readonly account: AccountIdentity;
  readonly device: DeviceIdentity;
  readonly signedPreKey: SignedPreKey;
  readonly pqPreKey: PqPreKey;
  readonly oneTimePreKeys: readonly OneTimePreKey[];
  /** What a server reports of the account (GetAccountDevices). */
  readonly report: MessageInitShape<typeof AccountDevicesSchema>;
  /** The bundle a server hands out (FetchBundles), with the first one-time prekey. */
  readonly bundle: MessageInitShape<typeof BundleSchema>;
  /** The same bundle for `Session.initiate`. */
  readonly preKeyBundle: PreKeyBundle;
  /** Its private prekeys by id, for `Session.accept`. */
  readonly preKeys: PreKeySource;
  /** A linked companion, when asked for. */
  readonly companion: { readonly deviceId: string; readonly device: DeviceIdentity } | null;
}

export interface FakeAccountOptions {
  /** When the signed list expires (a year from `now` unless given; it may be in the past). */
  readonly listExpiresAt?: number;
  /** A companion on the list, attested or not. */
  readonly companion?: 'attested' | 'unattested';
}

const DAY = 24 * 60 * 60 * 1000;

/** Makes an account `accountId` with a primary device (and a companion if asked), valid at `now`. */
export async function makeFakeAccount(accountId: string, now: number, options: FakeAccountOptions = {}): Promise<FakeAccount> {
  const [account, device, companionDevice] = await Promise.all([generateAccountIdentity(), generateDeviceIdentity(), generateDeviceIdentity()]);
  const deviceId = toHex(randomBytes(16));
  const identity = publicIdentity(device);
  const [signedPreKey, pqPreKey, oneTimePreKeys] = await Promise.all([
    generateSignedPreKey(device, 1),
    generatePqPreKey(device, 1),
    generateOneTimePreKeys(1, 4),
  ]);
  const expiresAt = options.listExpiresAt ?? now + 365 * DAY;
  const issuedAt = Math.min(now, expiresAt - 30 * DAY);
  const companion = options.companion === undefined ? null : { deviceId: toHex(randomBytes(16)), device: companionDevice };
  const deviceList = await signDeviceList(account.privateKey, {
    accountId,
    version: 1,
    issuedAt,
    expiresAt,
    devices: [
      { deviceId, kind: 'primary', identity, linkedAt: issuedAt },
      ...(companion === null ? [] : [{ deviceId: companion.deviceId, kind: 'companion' as const, identity: publicIdentity(companionDevice), linkedAt: issuedAt }]),
    ],
  });
  const attest = (id: string, of: DeviceIdentity) =>
    signDeviceAttestation(of.signing.privateKey, { accountId, accountKey: account.publicKey, deviceId: id, identity: publicIdentity(of) });
  const attestations = [{ deviceId, signature: await attest(deviceId, device) }];
  if (companion !== null && options.companion === 'attested') attestations.push({ deviceId: companion.deviceId, signature: await attest(companion.deviceId, companion.device) });
  const first = oneTimePreKeys[0]!;
  return {
    accountId,
    deviceId,
    account,
    device,
    signedPreKey,
    pqPreKey,
    oneTimePreKeys,
    report: { accountId, accountKey: account.publicKey, deviceList, deviceIds: [deviceId, ...(companion === null ? [] : [companion.deviceId])], attestations },
    bundle: {
      deviceId,
      identity,
      signedPreKey: signedPreKeyPublic(signedPreKey),
      pqPreKey: signedPreKeyPublic(pqPreKey),
      oneTimePreKey: { id: first.id, publicKey: first.keyPair.publicKey },
    },
    preKeyBundle: {
      identity,
      signedPreKey: signedPreKeyPublic(signedPreKey),
      pqPreKey: signedPreKeyPublic(pqPreKey),
      oneTimePreKey: { id: first.id, publicKey: first.keyPair.publicKey },
    },
    preKeys: {
      signedPreKey: (id) => (id === signedPreKey.id ? signedPreKey : null),
      pqPreKey: (id) => (id === pqPreKey.id ? pqPreKey : null),
      oneTimePreKey: (id) => oneTimePreKeys.find((key) => key.id === id) ?? null,
    },
    companion,
  };
}

/** The bundle of the device in `store` as its server would hand it out (signed, ML-KEM and a one-time prekey). */
export async function publishedBundle(store: ClientStore): Promise<PreKeyBundle> {
  const identity = (await store.get<{ device: { signing: { publicKey: Uint8Array }; agreement: { publicKey: Uint8Array } } }>(StoreTable.Identity, 'self'))!;
  const signed = (await store.get<{ id: number; keyPair: { publicKey: Uint8Array }; signature: Uint8Array }>(StoreTable.PreKeys, 'signed:1'))!;
  const pq = (await store.get<{ id: number; keyPair: { publicKey: Uint8Array }; signature: Uint8Array }>(StoreTable.PreKeys, 'pq:1'))!;
  const oneTime = (await store.get<{ id: number; keyPair: { publicKey: Uint8Array } }>(StoreTable.PreKeys, 'one-time:1'))!;
  return {
    identity: { signingKey: identity.device.signing.publicKey, agreementKey: identity.device.agreement.publicKey },
    signedPreKey: { id: signed.id, publicKey: signed.keyPair.publicKey, signature: signed.signature },
    pqPreKey: { id: pq.id, publicKey: pq.keyPair.publicKey, signature: pq.signature },
    oneTimePreKey: { id: oneTime.id, publicKey: oneTime.keyPair.publicKey },
  };
}
