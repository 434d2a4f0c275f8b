// Integration: the server's side of protocol version 2 (SPEC VERSION-1, ATTEST-1, PREKEYS-1,
// KEYS-1), through raw connections that send what an honest client would not.
import { randomBytes } from 'node:crypto';
import { StoreTable } from '@pairwise/client/client-store';
import type { StoredIdentity } from '@pairwise/client/identity';
import { MemoryStore } from '@pairwise/client/memory-store';
import { signDeviceAttestation } from '@pairwise/crypto/device-attestation';
import { signDeviceList } from '@pairwise/crypto/device-list';
import { generateAccountIdentity, generateDeviceIdentity, generatePqPreKey, generateSignedPreKey, publicIdentity, signedPreKeyPublic } from '@pairwise/crypto/keys';
import { CLOSE_UPDATE_REQUIRED } from '@pairwise/protocol/errors';
import { MAX_PQ_ONE_TIME_PREKEYS } from '@pairwise/protocol/limits';
import { PROTOCOL_VERSION } from '@pairwise/protocol/version';
import { describe, expect, it } from 'vitest';
import { PairwiseClient } from '@pairwise/client/pairwise-client';
import { RawConnection } from './raw-connection.js';
import type { ServerProcess } from './server-process.js';
import { withServerDatabase } from './test-support/server-database.js';
import { useServerProcess } from './test-support/use-server-process.js';
import { connectOptions, createPrimary, eventually } from './test-clients.js';

let server: ServerProcess;
useServerProcess({ get: () => server, set: (started) => (server = started) });

/** A registration as the SDK builds it, with `attestation` replaced when given. */
async function registration(username: string, attestationFor?: { accountId?: string; accountKey?: Uint8Array }) {
  const [account, device] = await Promise.all([generateAccountIdentity(), generateDeviceIdentity()]);
  const deviceId = randomBytes(16).toString('hex');
  const identity = publicIdentity(device);
  const now = Date.now();
  const deviceList = await signDeviceList(account.privateKey, {
    accountId: username,
    version: 1,
    issuedAt: now,
    expiresAt: now + 86_400_000 * 365,
    devices: [{ deviceId, kind: 'primary', identity, linkedAt: now }],
  });
  const [signed, pq] = await Promise.all([generateSignedPreKey(device, 1), generatePqPreKey(device, 1)]);
  const attestation = await signDeviceAttestation(device.signing.privateKey, {
    accountId: attestationFor?.accountId ?? username,
    accountKey: attestationFor?.accountKey ?? account.publicKey,
    deviceId,
    identity,
  });
  return {
    username,
    accountKey: account.publicKey,
    deviceId,
    identity,
    deviceList,
    preKeys: { signedPreKey: signedPreKeyPublic(signed), pqPreKey: signedPreKeyPublic(pq), oneTimePreKeys: [], pqOneTimePreKeys: [] },
    inviteCode: '',
    deviceName: 'Phone',
    protocolVersion: PROTOCOL_VERSION,
    attestation,
  };
}

describe('[VERSION-1] protocol version 2', () => {
  it('a version 1 client (no attestations, no names in its messages) is told to update', async () => {
    for (const request of ['authenticate', 'register', 'createLinkToken'] as const) {
      const raw = await RawConnection.open(server);
      const response = await raw.request({ case: request, value: { protocolVersion: 1 } });
      expect(response.error?.code, request).toBe('UPDATE_REQUIRED');
      expect(await raw.closed()).toBe(CLOSE_UPDATE_REQUIRED);
    }
  });
});

describe('[ATTEST-1] attestations at the server', () => {
  it('registration needs the primary\'s attestation of exactly this account and key', async () => {
    const stranger = await generateAccountIdentity();
    for (const [name, build] of [
      ['missing', async () => ({ ...(await registration('att_missing')), attestation: new Uint8Array(0) })],
      ['for another account', () => registration('att_other', { accountId: 'someone_else' })],
      ['for another key', () => registration('att_key', { accountKey: stranger.publicKey })],
    ] as const) {
      const raw = await RawConnection.open(server);
      const response = await raw.request({ case: 'register', value: await build() });
      expect(response.error?.code, name).toBe(name === 'missing' ? 'BAD_REQUEST' : 'INVALID_ATTESTATION');
      raw.close();
    }
    const raw = await RawConnection.open(server);
    expect((await raw.request({ case: 'register', value: await registration('att_ok') })).error).toBeUndefined();
    raw.close();
  });

  it('AttestDevice is checked against the device\'s keys and its account', async () => {
    const store = new MemoryStore();
    await createPrimary(server, 'att_device', store);
    const identity = (await store.get<StoredIdentity>(StoreTable.Identity, 'self'))!;
    const raw = await RawConnection.open(server);
    expect((await raw.authenticateAs(store, server.origin)).error).toBeUndefined();
    const wrong = await signDeviceAttestation(identity.device.signing.privateKey, {
      accountId: 'another_account',
      accountKey: identity.accountKey,
      deviceId: identity.deviceId,
      identity: publicIdentity(identity.device),
    });
    expect((await raw.request({ case: 'attestDevice', value: { signature: wrong } })).error?.code).toBe('INVALID_ATTESTATION');
    expect((await raw.request({ case: 'attestDevice', value: { signature: new Uint8Array(3) } })).error?.code).toBe('BAD_REQUEST');
    const right = await signDeviceAttestation(identity.device.signing.privateKey, {
      accountId: identity.accountId,
      accountKey: identity.accountKey,
      deviceId: identity.deviceId,
      identity: publicIdentity(identity.device),
    });
    expect((await raw.request({ case: 'attestDevice', value: { signature: right } })).error).toBeUndefined();
    raw.close();
  });
});

describe('[FANOUT-1] an envelope-less send', () => {
  it('is a question about another account, never a note to self', async () => {
    const store = new MemoryStore();
    await createPrimary(server, 'empty_self', store);
    const raw = await RawConnection.open(server);
    await raw.authenticateAs(store, server.origin);
    const response = await raw.request({ case: 'sendMessage', value: { clientMessageId: randomBytes(16), recipientAccountId: 'empty_self', envelopes: [] } });
    expect(response.error?.code).toBe('BAD_REQUEST');
    expect(response.error?.message).toMatch(/note to self/);
    raw.close();
  });
});

describe('[KEYS-1] [PREKEYS-1] one-time ML-KEM prekeys at the server', () => {
  it('each must verify under the device key, ids must not repeat, and a device holds at most the limit', async () => {
    const store = new MemoryStore();
    await createPrimary(server, 'pq_upload', store);
    const identity = (await store.get<StoredIdentity>(StoreTable.Identity, 'self'))!;
    const raw = await RawConnection.open(server);
    await raw.authenticateAs(store, server.origin);
    const upload = async (ids: readonly number[], signer = identity.device) =>
      raw.request({
        case: 'uploadPreKeys',
        value: { preKeys: { pqOneTimePreKeys: await Promise.all(ids.map(async (id) => signedPreKeyPublic(await generatePqPreKey(signer, id)))) } },
      });
    expect((await upload([1000], await generateDeviceIdentity())).error?.code).toBe('INVALID_PREKEYS');
    expect((await upload([1001, 1001])).error?.code).toBe('BAD_REQUEST');
    const status = await upload([1002, 1003]);
    expect(status.result.case === 'preKeyStatus' && status.result.value.pqOneTimePreKeys).toBe(27);
    // Past the per-device limit, the upload is refused whole.
    const over = Array.from({ length: MAX_PQ_ONE_TIME_PREKEYS - 26 }, (_, i) => 2000 + i);
    const refused = await upload(over);
    expect(refused.error?.code).toBe('BAD_REQUEST');
    expect(refused.error?.message).toMatch(/more than/);
    raw.close();
  });
});

/** Makes the account's devices unattested, as they are right after the server's upgrade to version 2. */
function forgetAttestations(accountId: string): void {
  withServerDatabase(server, (db) => db.prepare('update devices set attestation = null where account_id = ?').run(accountId));
}

describe('[ATTEST-1] [DEVICES-2] sends to a contact none of whose devices has attested', () => {
  it('wait instead of failing or vanishing, and go once the contact\'s app attests', async () => {
    const alice = await createPrimary(server, 'alice_wait');
    const bobStore = new MemoryStore();
    const bob = await createPrimary(server, 'bob_wait', bobStore);
    const texts: string[] = [];
    const hello = bob.once('message');
    await alice.sendText('bob_wait', 'hello');
    await hello;
    await bob.close();
    forgetAttestations('bob_wait');
    const bobRows = () =>
      withServerDatabase(server, (db) => {
        const rows = db.prepare("select count(*) as n from inbox i join devices d on d.device_id = i.device_id where d.account_id = 'bob_wait'").get();
        return (rows as { n: number }).n;
      });
    const rowsBefore = bobRows();

    // Alice's app still counts Bob's phone as current: the server says nobody can receive, and
    // the send waits (neither sent nor failed) instead of going only to Alice's own devices.
    let outcome = 'pending';
    const failed: string[] = [];
    alice.on('send-failed', (failure) => failed.push(failure.code));
    const waiting = alice.sendText('bob_wait', 'waits for the update').then(
      () => (outcome = 'sent'),
      (error: unknown) => (outcome = `failed: ${String(error)}`),
    );
    // A brand-new contact waits the same way, from the first report it gets.
    const carol = await createPrimary(server, 'carol_wait');
    let fromCarol = 'pending';
    void carol.sendText('bob_wait', 'from a new contact').then(
      () => (fromCarol = 'sent'),
      (error: unknown) => (fromCarol = `failed: ${String(error)}`),
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(outcome).toBe('pending');
    expect(fromCarol).toBe('pending');
    expect(failed).toEqual([]);
    expect(bobRows()).toBe(rowsBefore);

    // Bob's updated app connects and attests: both waiting sends go, and he reads them.
    const again = (await PairwiseClient.open(connectOptions(server, bobStore)))!;
    again.on('message', (message) => texts.push(message.text));
    await eventually(() => outcome !== 'pending' && fromCarol !== 'pending', 15_000, 'both waiting sends going');
    await waiting;
    expect(outcome).toBe('sent');
    expect(fromCarol).toBe('sent');
    await eventually(() => texts.length === 2, 10_000, 'Bob reading both');
    expect(texts.sort()).toEqual(['from a new contact', 'waits for the update']);
    expect(failed).toEqual([]);
    for (const client of [alice, carol, again]) await client.close();
  });
});
