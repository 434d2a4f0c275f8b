// Registering the idle accounts, many of them. The SDK spends about 55 ms of generator CPU on an
// account, four fifths of it making 100 one-time X25519 and 25 one-time ML-KEM prekeys (measured
// here, ~14 accounts/s); 20,000 accounts would take longer than the rest of the benchmark. "lean"
// sends the same Register request, built from @pairwise/crypto as PairwiseClient.createAccount
// builds it, with its own account key, device keys, signed device list, attestation, signed
// prekey and last-resort ML-KEM prekey, but with cheaper one-time prekeys: the 100 X25519 ones
// (unsigned by design) are public keys made once and sent by every account, and only
// PQ_PREKEYS_LOW_THRESHOLD fresh ML-KEM ones, so that the server does not ask for more at sign-in.
// These devices never receive a first message, so nothing reads either. "sdk" registers through
// the SDK, exactly as bench/ring does.
import { performance } from 'node:perf_hooks';
import { randomBytes, toHex } from '@pairwise/crypto/bytes';
import { signDeviceAttestation } from '@pairwise/crypto/device-attestation';
import { signDeviceList } from '@pairwise/crypto/device-list';
import { generateAccountIdentity, generateDeviceIdentity, generateOneTimePreKeys, generatePqPreKey, generateSignedPreKey, publicIdentity, signedPreKeyPublic } from '@pairwise/crypto/keys';
import { decodeServerFrame, encodeClientFrame } from '@pairwise/protocol/frames';
import { DEVICE_LIST_VALIDITY_MS, PQ_PREKEYS_LOW_THRESHOLD } from '@pairwise/protocol/limits';
import { PROTOCOL_VERSION } from '@pairwise/protocol/version';
import WebSocket from 'ws';
import { registerAccounts } from '../ring/pairwise-system.mjs';

/** How the idle accounts are made. */
export const RegisterMode = { Lean: 'lean', Sdk: 'sdk' };

/** One-time X25519 prekeys per Register, as the SDK sends (ONE_TIME_PREKEY_BATCH, packages/client/src/prekeys.ts). */
const ONE_TIME_PREKEYS = 100;

/**
 * Registers `count` accounts named `${prefix}${first + i}`, `concurrency` at a time; returns what
 * signing in needs ({ accountId, deviceId, signingKey }) and how long it took.
 */
export async function registerIdleAccounts({ mode, url, origin, count, first, prefix, concurrency }) {
  const started = performance.now();
  const accounts =
    mode === RegisterMode.Sdk
      ? await registerAccounts({ url, origin, count, first, prefix, concurrency, label: null })
      : await registerLean({ url, origin, count, first, prefix, concurrency });
  return { accounts, seconds: (performance.now() - started) / 1000 };
}

async function registerLean({ url, origin, count, first, prefix, concurrency }) {
  const sharedOneTime = (await generateOneTimePreKeys(1, ONE_TIME_PREKEYS)).map((key) => ({ id: key.id, publicKey: key.keyPair.publicKey }));
  const accounts = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      accounts[i] = await registerOne({ url, origin, username: `${prefix}${first + i}`, sharedOneTime });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return accounts;
}

async function registerOne({ url, username, sharedOneTime }) {
  const now = Date.now();
  const [account, device] = await Promise.all([generateAccountIdentity(), generateDeviceIdentity()]);
  const deviceId = toHex(randomBytes(16));
  const identity = publicIdentity(device);
  const [deviceList, attestation, signedPreKey, ...pqKeys] = await Promise.all([
    signDeviceList(account.privateKey, {
      accountId: username,
      version: 1,
      issuedAt: now,
      expiresAt: now + DEVICE_LIST_VALIDITY_MS,
      devices: [{ deviceId, kind: 'primary', identity, linkedAt: now }],
    }),
    signDeviceAttestation(device.signing.privateKey, { accountId: username, accountKey: account.publicKey, deviceId, identity }),
    generateSignedPreKey(device, 1),
    // Id 1 is the last-resort key; the one-time ones follow in the same id space, as in the SDK.
    ...Array.from({ length: 1 + PQ_PREKEYS_LOW_THRESHOLD }, (_, i) => generatePqPreKey(device, 1 + i)),
  ]);
  const [pqPreKey, ...pqOneTime] = pqKeys.map(signedPreKeyPublic);
  const register = {
    username,
    accountKey: account.publicKey,
    deviceId,
    identity,
    deviceList,
    preKeys: { signedPreKey: signedPreKeyPublic(signedPreKey), pqPreKey, oneTimePreKeys: sharedOneTime, pqOneTimePreKeys: pqOneTime },
    inviteCode: '',
    deviceName: 'Phone',
    protocolVersion: PROTOCOL_VERSION,
    attestation,
  };
  // A connection of its own, as the SDK registers; the server's challenge is not needed for it.
  const socket = new WebSocket(url, { maxPayload: 1024 * 1024 });
  try {
    await new Promise((resolve, reject) => {
      socket.once('open', () => socket.send(encodeClientFrame({ requestId: 1, body: { case: 'register', value: register } })));
      socket.on('message', (data) => {
        const body = decodeServerFrame(new Uint8Array(data)).body;
        if (body.case !== 'response') return;
        if (body.value.result.case === 'registered') resolve();
        else reject(new Error(`registering ${username}: ${body.value.error?.code ?? 'no answer'}`));
      });
      socket.once('error', reject);
      socket.once('close', (code) => reject(new Error(`registering ${username}: the socket closed (${code})`)));
    });
  } finally {
    socket.terminate();
  }
  return { accountId: username, deviceId, signingKey: device.signing.privateKey };
}
