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
}

/** Makes an account `accountId` with one primary device, valid at `now`. */
export async function makeFakeAccount(accountId: string, now: number): Promise<FakeAccount> {
  const [account, device] = await Promise.all([generateAccountIdentity(), generateDeviceIdentity()]);
  const deviceId = toHex(randomBytes(16));
  const identity = publicIdentity(device);
  const [signedPreKey, pqPreKey, oneTimePreKeys] = await Promise.all([
    generateSignedPreKey(device, 1),
    generatePqPreKey(device, 1),
    generateOneTimePreKeys(1, 4),
  ]);
  const deviceList = await signDeviceList(account.privateKey, {
    accountId,
    version: 1,
    issuedAt: now,
    expiresAt: now + 365 * 24 * 60 * 60 * 1000,
    devices: [{ deviceId, kind: 'primary', identity, linkedAt: now }],
  });
  const attestation = await signDeviceAttestation(device.signing.privateKey, { accountId, accountKey: account.publicKey, deviceId, identity });
  const first = oneTimePreKeys[0]!;
  return {
    accountId,
    deviceId,
    account,
    device,
    signedPreKey,
    pqPreKey,
    oneTimePreKeys,
    report: { accountId, accountKey: account.publicKey, deviceList, deviceIds: [deviceId], attestations: [{ deviceId, signature: attestation }] },
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
  };
}
