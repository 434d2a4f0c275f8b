/**
 * What only the primary does with the account's devices (SPEC ROLES-1, LINK-4, DEVLIST-4):
 * approve a link, remove a companion, and sign the account's device list again, after a
 * companion left by itself or when a third of the list's lifetime is left.
 *
 * Every change goes through `changeList`: build the next list from the account's current one,
 * send it, and if another change got in first (STALE_DEVICE_LIST) build once more on that.
 * @module
 */
import type { DeviceListEntry, SignedDeviceList } from '@pairwise/crypto/device-list';
import { signDeviceCertificate } from '@pairwise/crypto/device-certificate';
import { sealLinkBundle } from '@pairwise/crypto/link-bundle';
import type { LinkQrPayload } from '@pairwise/protocol/link-qr';
import { DEVICE_LIST_RENEW_BEFORE_MS } from '@pairwise/protocol/limits';
import type { ContactRecord } from './contacts.js';
import { signNextList } from './device-lists.js';
import { LinkError, LinkErrorReason, RequestError } from './errors.js';
import type { StoredIdentity } from './identity.js';
import { encodeLinkBundle } from './link-request.js';
import type { Messenger } from './messenger.js';
import type { Transport } from './transport.js';

export interface PrimaryDevicesDeps {
  readonly identity: StoredIdentity;
  readonly transport: Transport;
  readonly messenger: Messenger;
  readonly now: () => number;
}

export class PrimaryDevices {
  constructor(private readonly deps: PrimaryDevicesDeps) {}

  /** Links the companion a scanned code names (after the person confirmed, with the PIN if set). */
  async approveLink(qr: LinkQrPayload, pin: string): Promise<void> {
    const { identity } = this.deps;
    const account = identity.account;
    if (account === null) throw new LinkError(LinkErrorReason.NotPrimary, 'Only your phone can link devices.');
    await this.changeList(
      (): DeviceListEntry => ({ deviceId: qr.deviceId, kind: 'companion', identity: { signingKey: qr.signingKey, agreementKey: qr.agreementKey }, linkedAt: this.deps.now() }),
      (devices, companion) => [...devices, companion],
      async (deviceList, companion) => {
        const deviceCertificate = await signDeviceCertificate(account.privateKey, {
          accountId: identity.accountId,
          deviceId: companion.deviceId,
          identity: companion.identity,
          issuedAt: companion.linkedAt,
        });
        const bundle = encodeLinkBundle({
          accountId: identity.accountId,
          accountKey: identity.accountKey,
          deviceCertificate,
          deviceList,
          primaryDeviceId: identity.deviceId,
        });
        const sealedBundle = await sealLinkBundle(qr.ephemeralKey, { token: qr.token, origin: qr.origin }, bundle);
        await this.deps.transport.request({ case: 'approveLink', value: { token: qr.token, deviceList, deviceCertificate, sealedBundle, pin } });
      },
    );
  }

  /** Removes a companion: its sockets close and it wipes itself. */
  async removeDevice(deviceId: string): Promise<void> {
    await this.changeList(
      () => null,
      (devices) => devices.filter((device) => device.deviceId !== deviceId),
      async (deviceList) => {
        await this.deps.transport.request({ case: 'removeDevice', value: { deviceId, deviceList } });
      },
    );
  }

  /** Signs the same devices again, one version up (after a companion left by itself, or to renew). */
  async resign(): Promise<void> {
    await this.changeList(
      () => null,
      (devices) => devices,
      async (deviceList) => {
        await this.deps.transport.request({ case: 'updateDeviceList', value: { deviceList } });
      },
    );
  }

  /**
   * Keeps the account's list fresh (SPEC DEVLIST-4): signs it again when less than a third of its
   * lifetime is left, and when it still names a companion that left while the phone was away.
   */
  async maintain(): Promise<void> {
    const own = (await this.deps.messenger.refreshAccount(this.deps.identity.accountId)).record;
    const due = own.listExpiresAt - this.deps.now() < DEVICE_LIST_RENEW_BEFORE_MS;
    const stale = own.listedDeviceIds.length > own.registeredDevices.length;
    if (due || stale) await this.resign();
  }

  /**
   * Builds the next list from the account's current one (refreshed from the server) and sends it;
   * after STALE_DEVICE_LIST (another change got in first) builds once more on the newer list.
   */
  private async changeList<T>(
    extra: () => T,
    devicesOf: (current: readonly DeviceListEntry[], extra: T) => readonly DeviceListEntry[],
    send: (list: SignedDeviceList, extra: T) => Promise<void>,
  ): Promise<void> {
    const { identity, messenger, now } = this.deps;
    for (let attempt = 0; ; attempt++) {
      const own: ContactRecord = (await messenger.refreshAccount(identity.accountId)).record;
      const added = extra();
      // Every device the server still has, attested or not: the server checks the list names exactly those.
      const list = await signNextList(identity, own, devicesOf(own.registeredDevices, added), now());
      try {
        await send(list, added);
        await messenger.refreshAccount(identity.accountId);
        return;
      } catch (error) {
        if (error instanceof RequestError && error.code === 'STALE_DEVICE_LIST' && attempt === 0) continue;
        throw error;
      }
    }
  }
}
