/** Builders shared by the tests: ratchet pairs and devices with published prekeys. */
import { randomBytes } from '../bytes.js';
import {
  generateDeviceIdentity,
  generateOneTimePreKeys,
  generatePqPreKey,
  generateSignedPreKey,
  publicIdentity,
  signedPreKeyPublic,
  type DeviceIdentity,
  type OneTimePreKey,
  type PqPreKey,
  type SignedPreKey,
} from '../keys.js';
import type { PreKeyBundle } from '../pqxdh.js';
import { DoubleRatchet } from '../ratchet.js';
import type { PreKeySource } from '../session.js';
import { generateX25519KeyPair } from '../x25519.js';

/** Two ratchets that share a fresh random secret, as PQXDH would have left them. */
export async function ratchetPair(): Promise<{ alice: DoubleRatchet; bob: DoubleRatchet }> {
  const secret = randomBytes(32);
  const associatedData = randomBytes(64);
  const bobKey = await generateX25519KeyPair();
  return {
    alice: await DoubleRatchet.initiator(secret, associatedData, bobKey.publicKey),
    bob: DoubleRatchet.responder(secret, associatedData, bobKey),
  };
}

/** A device with an identity, prekeys, and a prekey store that deletes used one-time prekeys. */
export interface TestDevice {
  readonly identity: DeviceIdentity;
  readonly signedPreKey: SignedPreKey;
  readonly pqPreKey: PqPreKey;
  readonly oneTimePreKeys: Map<number, OneTimePreKey>;
  readonly source: PreKeySource;
  /** A bundle as the server would hand it out, taking one one-time prekey if any is left. */
  bundle(options?: { withOneTimePreKey?: boolean }): PreKeyBundle;
}

export async function makeDevice(oneTimePreKeys = 3): Promise<TestDevice> {
  const identity = await generateDeviceIdentity();
  const [signedPreKey, pqPreKey, oneTime] = await Promise.all([
    generateSignedPreKey(identity, 1),
    generatePqPreKey(identity, 1),
    generateOneTimePreKeys(100, oneTimePreKeys),
  ]);
  const store = new Map(oneTime.map((key) => [key.id, key]));
  const handedOut = new Set<number>();
  return {
    identity,
    signedPreKey,
    pqPreKey,
    oneTimePreKeys: store,
    source: {
      signedPreKey: (id) => (id === signedPreKey.id ? signedPreKey : null),
      pqPreKey: (id) => (id === pqPreKey.id ? pqPreKey : null),
      oneTimePreKey: (id) => store.get(id) ?? null,
    },
    bundle({ withOneTimePreKey = true } = {}) {
      const next = withOneTimePreKey ? [...store.values()].find((key) => !handedOut.has(key.id)) : undefined;
      if (next) handedOut.add(next.id);
      return {
        identity: publicIdentity(identity),
        signedPreKey: signedPreKeyPublic(signedPreKey),
        pqPreKey: signedPreKeyPublic(pqPreKey),
        oneTimePreKey: next ? { id: next.id, publicKey: next.keyPair.publicKey } : null,
      };
    },
  };
}
