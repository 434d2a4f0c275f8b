#!/usr/bin/env node
// bench/crypto: operations per second of the cryptographic core on WebCrypto, using the built
// package exactly as a consumer would (npm run bench:crypto builds it first).
//
// Figures are medians of 5 rounds after a warm-up. Baselines run in the same process: a bare
// AES-256-GCM encryption of the same payload (the floor any ratchet message pays) and a bare
// X25519 derivation (PQXDH needs 3-4 of them plus ML-KEM). Ratios are against those baselines.
import { aesGcmEncrypt, generateAesGcmKey } from '@pairwise/crypto/aes-gcm';
import { randomBytes } from '@pairwise/crypto/bytes';
import {
  generateDeviceIdentity,
  generateOneTimePreKeys,
  generatePqPreKey,
  generateSignedPreKey,
  publicIdentity,
  signedPreKeyPublic,
} from '@pairwise/crypto/keys';
import { generateMlKemKeyPair, mlKemDecapsulate, mlKemEncapsulate } from '@pairwise/crypto/ml-kem';
import { DoubleRatchet } from '@pairwise/crypto/ratchet';
import { Session } from '@pairwise/crypto/session';
import { generateX25519KeyPair, x25519 } from '@pairwise/crypto/x25519';
import { describeMachine, opsPerSecond } from '../machine.mjs';

const PAYLOAD_BYTES = 256; // a typical text message with its protobuf envelope
const FAN_OUT_DEVICES = 10;

async function makeResponder(oneTimePreKeys) {
  const identity = await generateDeviceIdentity();
  const [signedPreKey, pqPreKey, oneTime] = await Promise.all([
    generateSignedPreKey(identity, 1),
    generatePqPreKey(identity, 1),
    generateOneTimePreKeys(1, oneTimePreKeys),
  ]);
  const byId = new Map(oneTime.map((key) => [key.id, key]));
  let next = 0;
  return {
    identity,
    source: {
      signedPreKey: () => signedPreKey,
      pqPreKey: () => pqPreKey,
      oneTimePreKey: (id) => byId.get(id) ?? null,
    },
    bundle() {
      const key = oneTime[next++ % oneTime.length];
      return {
        identity: publicIdentity(identity),
        signedPreKey: signedPreKeyPublic(signedPreKey),
        pqPreKey: signedPreKeyPublic(pqPreKey),
        oneTimePreKey: { id: key.id, publicKey: key.keyPair.publicKey },
      };
    },
  };
}

async function established() {
  const secret = randomBytes(32);
  const ad = randomBytes(128);
  const bobKey = await generateX25519KeyPair();
  const alice = await DoubleRatchet.initiator(secret, ad, bobKey.publicKey);
  const bob = DoubleRatchet.responder(secret, ad, bobKey);
  return { alice, bob };
}

async function main() {
  console.log(`bench/crypto on ${describeMachine()}`);
  console.log(`payload ${PAYLOAD_BYTES} bytes; median of 5 rounds after a warm-up\n`);
  const payload = randomBytes(PAYLOAD_BYTES);
  const rows = [];

  // Baselines.
  const aesKey = await generateAesGcmKey();
  const nonce = randomBytes(12);
  const aes = await opsPerSecond(() => aesGcmEncrypt(aesKey, nonce, payload), { count: 4000 });
  rows.push(['baseline: AES-256-GCM encrypt', aes, '1.00x AES']);
  const dhKey = await generateX25519KeyPair();
  const peer = (await generateX25519KeyPair()).publicKey;
  const dh = await opsPerSecond(() => x25519(dhKey.privateKey, peer), { count: 2000 });
  rows.push(['baseline: X25519 derive', dh, '1.00x X25519']);
  const kem = generateMlKemKeyPair();
  const mlKem = await opsPerSecond(
    async () => {
      const { ciphertext } = mlKemEncapsulate(kem.publicKey);
      mlKemDecapsulate(ciphertext, kem.secretKey);
    },
    { count: 300 },
  );
  rows.push(['baseline: ML-KEM-768 encaps + decaps (pure JS)', mlKem, `${(dh / mlKem).toFixed(1)}x X25519 time`]);

  // Session setup: PQXDH on both sides and the first message, prekeys made beforehand.
  const alice = await generateDeviceIdentity();
  const responder = await makeResponder(200);
  // Who each side is, bound into the session's associated data (SPEC PQXDH-1).
  const toBob = { local: { accountId: 'alice', deviceId: 'a'.repeat(32) }, remote: { accountId: 'bob', deviceId: 'b'.repeat(32) } };
  const fromAlice = { local: toBob.remote, remote: toBob.local };
  const setup = await opsPerSecond(
    async () => {
      const session = await Session.initiate(alice, responder.bundle(), toBob);
      const first = await session.encrypt(payload);
      const accepted = await Session.accept(responder.identity, responder.source, first, fromAlice);
      if (!accepted.ok) throw new Error(`setup refused: ${accepted.reason}`);
    },
    { count: 150 },
  );
  rows.push(['session setup (PQXDH both sides + 1st message)', setup, `${(dh / setup).toFixed(1)}x X25519 time`]);

  // Ratchet encrypt and decrypt, in order, one at a time (a single chat is sequential).
  const pair = await established();
  const messages = [];
  const encrypt = await opsPerSecond(
    async () => {
      messages.push(await pair.alice.encrypt(payload));
    },
    { count: 3000 },
  );
  rows.push(['ratchet encrypt', encrypt, `${(aes / encrypt).toFixed(1)}x AES time`]);
  const pair2 = await established();
  const stream = [];
  for (let i = 0; i < 3000 * 6; i++) stream.push(await pair2.alice.encrypt(payload));
  let cursor = 0;
  const decrypt = await opsPerSecond(
    async () => {
      const result = await pair2.bob.decrypt(stream[cursor++]);
      if (!result.ok) throw new Error(`decrypt refused: ${result.reason}`);
    },
    { count: 3000 },
  );
  rows.push(['ratchet decrypt', decrypt, `${(aes / decrypt).toFixed(1)}x AES time`]);

  // One message for 10 devices: independent sessions, encrypted concurrently.
  const fan = await Promise.all(Array.from({ length: FAN_OUT_DEVICES }, established));
  const fanOut = await opsPerSecond(() => Promise.all(fan.map(({ alice: a }) => a.encrypt(payload))), { count: 400 });
  rows.push([`one message for ${FAN_OUT_DEVICES} devices`, fanOut, `${((fanOut * FAN_OUT_DEVICES) / encrypt).toFixed(2)}x per-device rate of sequential encrypt`]);

  const width = Math.max(...rows.map(([name]) => name.length));
  for (const [name, rate, ratio] of rows) {
    console.log(`${name.padEnd(width)}  ${rate.toFixed(0).padStart(8)} ops/s  ${ratio}`);
  }
}

await main();
