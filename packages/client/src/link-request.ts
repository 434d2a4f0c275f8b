/**
 * The companion's side of linking (SPEC LINK-*): make this browser's keys, show a QR code that
 * renews itself every 25 s for 5 minutes, and become a device when the phone approves.
 * @module
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { bytesEqual, randomBytes, toHex } from '@pairwise/crypto/bytes';
import { verifyDeviceCertificate } from '@pairwise/crypto/device-certificate';
import { verifyDeviceList } from '@pairwise/crypto/device-list';
import { generateDeviceIdentity, type DeviceIdentity } from '@pairwise/crypto/keys';
import { openLinkBundle } from '@pairwise/crypto/link-bundle';
import { generateX25519KeyPair, type X25519KeyPair } from '@pairwise/crypto/x25519';
import { encodeLinkQr } from '@pairwise/protocol/link-qr';
import { LINK_SESSION_MS, LINK_TOKEN_ROTATE_MS } from '@pairwise/protocol/limits';
import { PROTOCOL_VERSION } from '@pairwise/protocol/version';
import { LinkBundleSchema, type LinkApproved, type PreKeyUploadSchema } from '@pairwise/protocol/wire';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ClientStore } from './client-store.js';
import type { DeviceLock } from './device-lock.js';
import { Emitter } from './events.js';
import { saveIdentity, type StoredIdentity } from './identity.js';
import { makeInitialPreKeys } from './prekeys.js';
import type { SocketFactory } from './socket.js';
import { after } from './timers.js';
import { Transport } from './transport.js';

/** Options of a link request. */
export interface LinkRequestOptions {
  /** The server's public origin, e.g. https://chat.example.org (put in the QR code). */
  readonly origin: string;
  /** The WebSocket URL, e.g. wss://chat.example.org/ws. */
  readonly url: string;
  readonly socketFactory: SocketFactory;
  readonly store: ClientStore;
  /** How this device is named in the phone's list, e.g. "Chrome on Linux". */
  readonly deviceName: string;
  /**
   * "Keep me signed in" unticked: the server removes the device once its connection has been gone
   * for a minute (SPEC TEMP-1). The caller keeps such a device in a memory store only. Changing
   * it means a new LinkRequest: codes already shown keep the choice they were made with.
   */
  readonly temporary?: boolean;
  readonly now?: () => number;
}

/** What a link request emits. */
export interface LinkRequestEvents extends Record<string, unknown> {
  /** A new QR code to show (the previous one stops being shown). */
  qr: { readonly text: string; readonly expiresAt: number };
  /** Five minutes passed: stop showing codes and offer "Reload QR code". */
  expired: undefined;
  /** The phone approved: this browser is now a device of the account. */
  linked: StoredIdentity;
  error: Error;
}

interface IssuedToken {
  readonly token: Uint8Array;
  readonly expiresAt: number;
}

/**
 * A companion waiting to be linked.
 *
 * @example
 * ```ts
 * const request = new LinkRequest({ origin, url, socketFactory, store, deviceName: 'Firefox on Linux' });
 * request.on('qr', ({ text }) => showQr(text));
 * request.on('linked', async () => (client = await PairwiseClient.open({ origin, url, socketFactory, store })));
 * await request.start();
 * ```
 */
export class LinkRequest extends Emitter<LinkRequestEvents> {
  private transport: Transport | null = null;
  private device: DeviceIdentity | null = null;
  private readonly deviceId = toHex(randomBytes(16));
  private ephemeral: X25519KeyPair | null = null;
  private preKeys: MessageInitShape<typeof PreKeyUploadSchema> | null = null;
  private readonly issued: IssuedToken[] = [];
  private cancelRotation: (() => void) | null = null;
  private startedAt = 0;
  private finished = false;
  /** The store's device lock, held from the first key written until the device is linked or given up. */
  private lock: DeviceLock | null = null;

  constructor(private readonly options: LinkRequestOptions) {
    super();
  }

  /**
   * Makes the keys, connects, and starts showing codes. Rejects with `DeviceInUseError` while
   * another client uses the store: its prekeys and identity are written here (SPEC DEVICE-1).
   */
  async start(): Promise<void> {
    const { store } = this.options;
    this.lock = await store.acquireDeviceLock();
    try {
      await this.prepare();
    } catch (error) {
      this.finished = true;
      await this.releaseLock();
      throw error;
    }
  }

  private async prepare(): Promise<void> {
    const { store } = this.options;
    this.device = await generateDeviceIdentity({ extractable: store.needsExtractableKeys });
    // The ephemeral key never leaves this browser except inside the QR code.
    this.ephemeral = await generateX25519KeyPair();
    this.startedAt = this.now();
    this.preKeys = await makeInitialPreKeys(store, this.device, this.startedAt);
    this.transport = new Transport({
      url: this.options.url,
      socketFactory: this.options.socketFactory,
      handshake: () => Promise.resolve(),
      onPush: (frame) => {
        if (frame.body.case === 'linkApproved') {
          this.approved(frame.body.value).catch((error: unknown) => this.fail(error instanceof Error ? error : new Error(String(error))));
        }
      },
      onFinalClose: () => this.fail(new Error('the server closed the link request')),
    });
    this.transport.start();
    await this.rotate();
  }

  /** Stops showing codes, closes the connection and lets the store go. */
  cancel(): void {
    this.stopShowing();
    void this.releaseLock();
  }

  private stopShowing(): void {
    this.finished = true;
    this.cancelRotation?.();
    this.transport?.stop();
  }

  private async releaseLock(): Promise<void> {
    const lock = this.lock;
    this.lock = null;
    await lock?.release();
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private async rotate(): Promise<void> {
    if (this.finished) return;
    if (this.now() - this.startedAt >= LINK_SESSION_MS) {
      this.cancel();
      this.emit('expired', undefined);
      return;
    }
    try {
      const result = await this.transport!.request({
        case: 'createLinkToken',
        value: {
          deviceId: this.deviceId,
          identity: { signingKey: this.device!.signing.publicKey, agreementKey: this.device!.agreement.publicKey },
          preKeys: this.preKeys!,
          deviceName: this.options.deviceName,
          protocolVersion: PROTOCOL_VERSION,
          temporary: this.options.temporary ?? false,
        },
      });
      if (result.case !== 'linkToken' || this.finished) return;
      const { token, expiresAt } = result.value;
      this.issued.push({ token, expiresAt });
      this.emit('qr', {
        text: encodeLinkQr({
          origin: this.options.origin,
          token,
          ephemeralKey: this.ephemeral!.publicKey,
          deviceId: this.deviceId,
          signingKey: this.device!.signing.publicKey,
          agreementKey: this.device!.agreement.publicKey,
        }),
        expiresAt,
      });
    } catch (error) {
      if (!this.finished) this.emit('error', error instanceof Error ? error : new Error(String(error)));
    }
    this.cancelRotation = after(LINK_TOKEN_ROTATE_MS, () => void this.rotate());
  }

  private async approved(approval: LinkApproved): Promise<void> {
    if (this.finished) return;
    // The bundle is bound to the token the phone scanned: try the live ones, newest first.
    let plaintext: Uint8Array | null = null;
    for (const issued of [...this.issued].reverse()) {
      plaintext = await openLinkBundle(this.ephemeral!, { token: issued.token, origin: this.options.origin }, approval.sealedBundle);
      if (plaintext) break;
    }
    const identity = plaintext && (await this.verifyBundle(plaintext, approval.accountId));
    if (!identity) {
      this.fail(new Error('the link bundle did not verify'));
      return;
    }
    this.stopShowing();
    let saved: Error | null = null;
    try {
      await saveIdentity(this.options.store, identity);
    } catch (error) {
      saved = error instanceof Error ? error : new Error(String(error));
    }
    // Let go right before saying so: the caller opens the device with PairwiseClient.open.
    await this.releaseLock();
    // `fail` would say nothing now that the request is finished.
    if (saved !== null) this.emit('error', saved);
    else this.emit('linked', identity);
  }

  /**
   * Checks the bundle under its own account key: the list names this device as a companion with
   * its own keys, and the certificate names this account, this device and the same keys
   * (SPEC LINK-4, CERT-1). A bundle built for another device or account is refused.
   */
  private async verifyBundle(plaintext: Uint8Array, accountId: string): Promise<StoredIdentity | null> {
    let bundle;
    try {
      bundle = fromBinary(LinkBundleSchema, plaintext);
    } catch {
      return null;
    }
    const device = this.device!;
    if (bundle.accountId !== accountId || bundle.accountKey.length !== 32 || !bundle.deviceList || !bundle.deviceCertificate) return null;
    const [list, certificate] = await Promise.all([
      verifyDeviceList(bundle.deviceList, bundle.accountKey, { now: this.now() }),
      verifyDeviceCertificate(bundle.deviceCertificate, bundle.accountKey),
    ]);
    const entry = list?.devices.find((candidate) => candidate.deviceId === this.deviceId);
    const ours = (keys: { readonly signingKey: Uint8Array; readonly agreementKey: Uint8Array } | undefined) =>
      keys !== undefined && bytesEqual(keys.signingKey, device.signing.publicKey) && bytesEqual(keys.agreementKey, device.agreement.publicKey);
    const named =
      list?.accountId === accountId &&
      entry?.kind === 'companion' &&
      ours(entry.identity) &&
      certificate?.accountId === accountId &&
      certificate.deviceId === this.deviceId &&
      ours(certificate.identity);
    if (!named) return null;
    return {
      version: 1,
      origin: this.options.origin,
      accountId,
      deviceId: this.deviceId,
      kind: 'companion',
      device,
      account: null,
      accountKey: bundle.accountKey,
    };
  }

  private fail(error: Error): void {
    if (this.finished) return;
    this.cancel();
    this.emit('error', error);
  }
}

/** Encodes the bundle the primary seals (exported for the primary's side). */
export function encodeLinkBundle(bundle: MessageInitShape<typeof LinkBundleSchema>): Uint8Array {
  return toBinary(LinkBundleSchema, create(LinkBundleSchema, bundle));
}
