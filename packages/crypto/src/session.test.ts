// PQXDH and sessions end to end: bundles, the PreKey message, and refusals.
import { describe, expect, it } from 'vitest';
import { bytesEqual, fromUtf8, utf8 } from './bytes.js';
import { ByteWriter } from './encoding.js';
import {
  generateDeviceIdentity,
  generatePqPreKey,
  publicIdentity,
  signedPreKeyPublic,
  verifySignedPreKey,
  verifyPqPreKey,
} from './keys.js';
import { initiatePqxdh, respondPqxdh, sessionAssociatedData } from './pqxdh.js';
import { parseSessionMessage, Session, SessionFailure, SessionMessageType, type SessionRecord } from './session.js';
import { makeDevice } from './test-support/fixtures.js';

// Who the two parties are, as the associated data binds them (SPEC PQXDH-1).
const ALICE = { accountId: 'alice', deviceId: 'a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0' };
const BOB = { accountId: 'bob', deviceId: 'b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0' };
const MALLORY = { accountId: 'mallory', deviceId: 'c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0' };
/** Alice's view: she is local, Bob is remote. */
const TO_BOB = { local: ALICE, remote: BOB };
/** Bob's view of a message the envelope says Alice sent. */
const FROM_ALICE = { local: BOB, remote: ALICE };

async function accept(bob: Awaited<ReturnType<typeof makeDevice>>, message: Uint8Array) {
  const accepted = await Session.accept(bob.identity, bob.source, message, FROM_ALICE);
  if (!accepted.ok) throw new Error(`refused: ${accepted.reason}`);
  if (accepted.used.oneTimePreKeyId !== null) bob.oneTimePreKeys.delete(accepted.used.oneTimePreKeyId);
  return accepted;
}

describe('[KEYS-1] prekey signatures', () => {
  it('verify under the device signing key and under no other label or key', async () => {
    const device = await makeDevice();
    const other = await generateDeviceIdentity();
    const signed = signedPreKeyPublic(device.signedPreKey);
    const pq = signedPreKeyPublic(device.pqPreKey);
    expect(await verifySignedPreKey(device.identity.signing.publicKey, signed)).toBe(true);
    expect(await verifyPqPreKey(device.identity.signing.publicKey, pq)).toBe(true);
    expect(await verifySignedPreKey(other.signing.publicKey, signed)).toBe(false);
    // [CRYPTO-4] a signature made for one kind of prekey does not verify as the other.
    expect(await verifyPqPreKey(device.identity.signing.publicKey, { ...pq, signature: signed.signature })).toBe(false);
    expect(await verifySignedPreKey(device.identity.signing.publicKey, { ...signed, id: signed.id + 1 })).toBe(false);
  });
});

describe('[PQXDH-1] agreement', () => {
  it('both sides derive the same secret and associated data, with and without a one-time prekey', async () => {
    for (const withOneTimePreKey of [true, false]) {
      const alice = await generateDeviceIdentity();
      const bob = await makeDevice();
      const bundle = bob.bundle({ withOneTimePreKey });
      const started = await initiatePqxdh(alice, bundle, TO_BOB);
      expect(started).not.toBeNull();
      const { agreement, initiation } = started!;
      expect(initiation.oneTimePreKeyId === null).toBe(!withOneTimePreKey);
      const oneTimePreKey = initiation.oneTimePreKeyId === null ? null : bob.oneTimePreKeys.get(initiation.oneTimePreKeyId)!;
      const responded = await respondPqxdh(
        bob.identity,
        { signedPreKey: bob.signedPreKey, pqPreKey: bob.pqPreKey, oneTimePreKey },
        initiation,
        FROM_ALICE,
      );
      expect(responded).not.toBeNull();
      expect(bytesEqual(responded!.sharedSecret, agreement.sharedSecret)).toBe(true);
      expect(bytesEqual(responded!.associatedData, agreement.associatedData)).toBe(true);
      expect(agreement.sharedSecret.length).toBe(32);
    }
  });
});

describe('[PQXDH-1] accounts and devices in the associated data', () => {
  it('names both identities, then both accounts and devices, initiator first; every id changes it', async () => {
    const alice = await generateDeviceIdentity();
    const bob = await makeDevice();
    const started = (await initiatePqxdh(alice, bob.bundle(), TO_BOB))!;
    const ad = started.agreement.associatedData;
    const expected = new ByteWriter()
      .string('Pairwise/v2/session-ad')
      .fixed(alice.signing.publicKey, 32)
      .fixed(alice.agreement.publicKey, 32)
      .fixed(bob.identity.signing.publicKey, 32)
      .fixed(bob.identity.agreement.publicKey, 32)
      .string(ALICE.accountId)
      .string(ALICE.deviceId)
      .string(BOB.accountId)
      .string(BOB.deviceId)
      .finish();
    expect(bytesEqual(ad, expected)).toBe(true);
    const parties = { identity: publicIdentity(alice), address: ALICE };
    const responder = { identity: publicIdentity(bob.identity), address: BOB };
    for (const changed of [
      sessionAssociatedData({ ...parties, address: { ...ALICE, accountId: 'alicf' } }, responder),
      sessionAssociatedData({ ...parties, address: { ...ALICE, deviceId: MALLORY.deviceId } }, responder),
      sessionAssociatedData(parties, { ...responder, address: { ...BOB, accountId: 'mallory' } }),
      sessionAssociatedData(parties, { ...responder, address: { ...BOB, deviceId: MALLORY.deviceId } }),
    ]) {
      expect(bytesEqual(changed, ad)).toBe(false);
    }
  });

  it('a first message attributed to another account or device is refused, makes no session and uses no prekey', async () => {
    const bob = await makeDevice(1);
    const alice = (await Session.initiate(await generateDeviceIdentity(), bob.bundle(), TO_BOB))!;
    const message = await alice.encrypt(utf8('hi'));
    for (const binding of [
      { local: BOB, remote: MALLORY },
      { local: BOB, remote: { ...ALICE, deviceId: MALLORY.deviceId } },
      { local: { ...BOB, deviceId: MALLORY.deviceId }, remote: ALICE },
    ]) {
      expect(await Session.accept(bob.identity, bob.source, message, binding)).toEqual({
        ok: false,
        reason: SessionFailure.AuthenticationFailed,
      });
    }
    expect(bob.oneTimePreKeys.size).toBe(1);
    const accepted = await accept(bob, message);
    expect(fromUtf8(accepted.plaintext)).toBe('hi');
    expect(accepted.session.remoteAddress).toEqual(ALICE);
    expect(accepted.used).toEqual({ signedPreKeyId: 1, pqPreKeyId: 1, oneTimePreKeyId: 100 });
    expect(Session.restore(structuredClone(accepted.session.snapshot())).remoteAddress).toEqual(ALICE);
  });

  it('refuses a version 1 session record, whose associated data named no accounts', async () => {
    const bob = await makeDevice();
    const alice = (await Session.initiate(await generateDeviceIdentity(), bob.bundle(), TO_BOB))!;
    const record = { ...alice.snapshot(), version: 1 } as unknown as SessionRecord;
    expect(() => Session.restore(record)).toThrow(TypeError);
  });
});

describe('[PQXDH-2] forged bundles', () => {
  it('a bundle whose signed prekey or ML-KEM prekey was swapped is refused', async () => {
    const alice = await generateDeviceIdentity();
    const bob = await makeDevice();
    const mallory = await makeDevice();
    const bundle = bob.bundle();
    expect(await initiatePqxdh(alice, { ...bundle, signedPreKey: mallory.bundle().signedPreKey }, TO_BOB)).toBeNull();
    expect(await initiatePqxdh(alice, { ...bundle, pqPreKey: mallory.bundle().pqPreKey }, TO_BOB)).toBeNull();
    const otherPq = signedPreKeyPublic(await generatePqPreKey(mallory.identity, 1));
    expect(await initiatePqxdh(alice, { ...bundle, pqPreKey: otherPq }, TO_BOB)).toBeNull();
    expect(await initiatePqxdh(alice, { ...bundle, identity: { ...bundle.identity, signingKey: new Uint8Array(5) } }, TO_BOB)).toBeNull();
    expect(await Session.initiate(alice, { ...bundle, signedPreKey: mallory.bundle().signedPreKey }, TO_BOB)).toBeNull();
  });
});

describe('[PQXDH-3] prekeys named by an initiation', () => {
  it('an initiation naming other prekeys than those given is refused', async () => {
    const alice = await generateDeviceIdentity();
    const bob = await makeDevice();
    const started = (await initiatePqxdh(alice, bob.bundle(), TO_BOB))!;
    const keys = { signedPreKey: bob.signedPreKey, pqPreKey: bob.pqPreKey, oneTimePreKey: null };
    expect(await respondPqxdh(bob.identity, keys, started.initiation, FROM_ALICE)).toBeNull();
  });

  it('a one-time prekey is used once: a second session naming it is refused as unknown', async () => {
    const bob = await makeDevice(1);
    const bundle = bob.bundle();
    const first = (await Session.initiate(await generateDeviceIdentity(), bundle, TO_BOB))!;
    await accept(bob, await first.encrypt(utf8('one')));
    expect(bob.oneTimePreKeys.size).toBe(0);
    const second = (await Session.initiate(await generateDeviceIdentity(), bundle, TO_BOB))!;
    const refused = await Session.accept(bob.identity, bob.source, await second.encrypt(utf8('two')), FROM_ALICE);
    expect(refused).toEqual({ ok: false, reason: SessionFailure.UnknownPreKey });
  });
});

describe('[SESSION-1] session messages', () => {
  it('the initiator repeats its initiation until it hears back, then sends Normal messages', async () => {
    const aliceIdentity = await generateDeviceIdentity();
    const bob = await makeDevice();
    const alice = (await Session.initiate(aliceIdentity, bob.bundle(), TO_BOB))!;
    const m1 = await alice.encrypt(utf8('one'));
    const m2 = await alice.encrypt(utf8('two'));
    expect(parseSessionMessage(m1).type).toBe(SessionMessageType.PreKey);
    expect(parseSessionMessage(m2).type).toBe(SessionMessageType.PreKey);

    const accepted = await accept(bob, m2);
    expect(fromUtf8(accepted.plaintext)).toBe('two');
    const bobSession = accepted.session;
    expect(bytesEqual(bobSession.remoteIdentity.signingKey, aliceIdentity.signing.publicKey)).toBe(true);
    const again = await bobSession.decrypt(m1);
    expect(again.ok && fromUtf8(again.plaintext)).toBe('one');
    expect(await bobSession.decrypt(m1)).toEqual({ ok: false, reason: SessionFailure.Duplicate });

    const reply = await bobSession.encrypt(utf8('hello alice'));
    expect(parseSessionMessage(reply).type).toBe(SessionMessageType.Normal);
    const got = await alice.decrypt(reply);
    expect(got.ok && fromUtf8(got.plaintext)).toBe('hello alice');
    expect(parseSessionMessage(await alice.encrypt(utf8('three'))).type).toBe(SessionMessageType.Normal);
  });

  it('a PreKey message of another session is not decrypted by this one', async () => {
    const bob = await makeDevice();
    const alice1 = (await Session.initiate(await generateDeviceIdentity(), bob.bundle(), TO_BOB))!;
    const alice2 = (await Session.initiate(await generateDeviceIdentity(), bob.bundle(), TO_BOB))!;
    const { session } = await accept(bob, await alice1.encrypt(utf8('first')));
    expect(await session.decrypt(await alice2.encrypt(utf8('other')))).toEqual({
      ok: false,
      reason: SessionFailure.OtherSession,
    });
  });

  it('sessions survive a snapshot and restore on both sides', async () => {
    const bob = await makeDevice();
    const alice = (await Session.initiate(await generateDeviceIdentity(), bob.bundle(), TO_BOB))!;
    const { session } = await accept(bob, await alice.encrypt(utf8('hi')));
    const alice2 = Session.restore(structuredClone(alice.snapshot()));
    const bob2 = Session.restore(structuredClone(session.snapshot()));
    const fromBob = await alice2.decrypt(await bob2.encrypt(utf8('restored')));
    expect(fromBob.ok && fromUtf8(fromBob.plaintext)).toBe('restored');
    const fromAlice = await bob2.decrypt(await alice2.encrypt(utf8('both')));
    expect(fromAlice.ok && fromUtf8(fromAlice.plaintext)).toBe('both');
  });
});

describe('[SESSION-2] refused first messages', () => {
  it('malformed or tampered PreKey messages create no session and consume no prekey', async () => {
    const bob = await makeDevice(1);
    const alice = (await Session.initiate(await generateDeviceIdentity(), bob.bundle(), TO_BOB))!;
    const message = await alice.encrypt(utf8('hi'));
    expect(await Session.accept(bob.identity, bob.source, message.subarray(0, 50), FROM_ALICE)).toEqual({
      ok: false,
      reason: SessionFailure.Malformed,
    });
    const tampered = message.slice();
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
    expect(await Session.accept(bob.identity, bob.source, tampered, FROM_ALICE)).toEqual({
      ok: false,
      reason: SessionFailure.AuthenticationFailed,
    });
    // A changed ML-KEM ciphertext gives Bob a different secret (implicit rejection): refused too.
    const pqChanged = message.slice();
    pqChanged[2 + 96 + 10] = (pqChanged[2 + 96 + 10] as number) ^ 1;
    expect((await Session.accept(bob.identity, bob.source, pqChanged, FROM_ALICE)).ok).toBe(false);
    expect(bob.oneTimePreKeys.size).toBe(1);
    const accepted = await accept(bob, message);
    expect(fromUtf8(accepted.plaintext)).toBe('hi');
  });

  it('a Normal message cannot start a session', async () => {
    const bob = await makeDevice();
    expect(await Session.accept(bob.identity, bob.source, Uint8Array.of(1, 2, 0, 0), FROM_ALICE)).toEqual({
      ok: false,
      reason: SessionFailure.Malformed,
    });
  });
});
