// Integration: trust you can check (SPEC VERIFY-*, TOFU-2, SEND-1), against the real server.
// Safety numbers compared and scanned, decisions synced to the account's other devices, a
// verified contact's key change shown and holding sends until the person decides, an old key
// never silently accepted again, and a refused send kept for "Retry".
import { SafetyNumberChangedError } from '@pairwise/client/errors';
import { loadIdentity } from '@pairwise/client/identity';
import { MemoryStore } from '@pairwise/client/memory-store';
import { PairwiseClient } from '@pairwise/client/pairwise-client';
import { publicIdentity } from '@pairwise/crypto/keys';
import { describe, expect, it } from 'vitest';
import type { ServerProcess } from './server-process.js';
import { reinstallAccount, replaceList, restoreAccount, snapshotAccount } from './test-support/server-database.js';
import { useServerProcess } from './test-support/use-server-process.js';
import { connectOptions, createPrimary, eventually, linkCompanion } from './test-clients.js';

let server: ServerProcess;
useServerProcess({ get: () => server, set: (started) => (server = started) });

/** Texts an account's device receives. */
function inbox(client: PairwiseClient): string[] {
  const texts: string[] = [];
  client.on('message', (message) => texts.push(message.text));
  return texts;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('[VERIFY-1] [VERIFY-4] safety numbers', () => {
  it('both sides show the same 60 digits; a scanned code that matches verifies, another does not; every device of the account agrees', async () => {
    const alice = await createPrimary(server, 'alice_sn');
    const laptop = await linkCompanion(server, alice);
    const bob = await createPrimary(server, 'bob_sn');
    const carol = await createPrimary(server, 'carol_sn');
    const ours = await alice.safetyNumber('bob_sn');
    const theirs = await bob.safetyNumber('alice_sn');
    expect(ours.digits).toMatch(/^\d{60}$/);
    expect(ours.groups).toHaveLength(12);
    expect(ours.groups.every((group) => /^\d{5}$/.test(group))).toBe(true);
    expect(theirs.digits).toBe(ours.digits);
    expect(theirs.qrText).toBe(ours.qrText);
    expect(ours.state).toBe('default');

    expect(await alice.compareSafetyNumber('bob_sn', 'pairwise-link:1:AAAA')).toBe('not-a-safety-number');
    expect(await alice.compareSafetyNumber('bob_sn', (await carol.safetyNumber('alice_sn')).qrText)).toBe('mismatch');
    expect(await alice.verificationOf('bob_sn')).toBe('default');
    expect(await alice.compareSafetyNumber('bob_sn', theirs.qrText)).toBe('verified');
    expect(await alice.verificationOf('bob_sn')).toBe('verified');
    // The laptop hears of it, end-to-end encrypted, and agrees; and the other way round.
    await eventually(async () => (await laptop.verificationOf('bob_sn')) === 'verified', 10_000, 'the laptop agreeing');
    await laptop.clearVerification('bob_sn');
    await eventually(async () => (await alice.verificationOf('bob_sn')) === 'default', 10_000, 'the phone agreeing');
    for (const client of [alice, laptop, bob, carol]) await client.close();
  });
});

describe('[VERIFY-2] [VERIFY-3] [TOFU-2] a verified contact whose key changes', () => {
  it('shows the change, holds what is sent to them until "Send anyway", and never accepts an old key silently again', async () => {
    const alice = await createPrimary(server, 'alice_kc');
    const laptop = await linkCompanion(server, alice);
    const bobStore = new MemoryStore();
    const bob = await createPrimary(server, 'bob_kc', bobStore);
    const carol = await createPrimary(server, 'carol_kc');
    const atCarol = inbox(carol);
    await alice.sendText('bob_kc', 'before');
    await alice.markVerified('bob_kc', (await alice.safetyNumber('bob_kc')).digits);
    await eventually(async () => (await laptop.verificationOf('bob_kc')) === 'verified', 10_000, 'the laptop agreeing');
    const before = (await alice.safetyNumber('bob_kc')).digits;
    const original = snapshotAccount(server, 'bob_kc');
    await bob.close();

    // Bob gets a new phone: a new account key.
    const newBob = await reinstallAccount(server, 'bob_kc');
    const atNewBob = inbox(newBob);
    const changed = alice.once('identity-changed');
    const held = alice.sendText('bob_kc', 'held for the person');
    const notice = await changed;
    expect(notice.accountId).toBe('bob_kc');
    expect(notice.notice).toMatchObject({ kind: 'notice', notice: 'safety-number-changed', chatId: 'bob_kc' });
    expect(await alice.verificationOf('bob_kc')).toBe('held');
    expect((await alice.safetyNumber('bob_kc')).digits).not.toBe(before);
    // Waiting, not failed, not sent; and other chats keep flowing.
    await pause(800);
    expect(atNewBob).toEqual([]);
    expect(await alice.pendingMessages()).toEqual([expect.objectContaining({ chatId: 'bob_kc', failure: null })]);
    await alice.sendText('carol_kc', 'not held');
    await eventually(() => atCarol.includes('not held'), 10_000, 'the other chat');

    await alice.sendAnyway('bob_kc');
    expect((await held).chatId).toBe('bob_kc');
    await eventually(() => atNewBob.includes('held for the person'), 10_000, 'the held message after Send anyway');
    expect(await alice.verificationOf('bob_kc')).toBe('default');
    // The laptop, which had not even seen the new key, agrees with the phone's decision.
    await eventually(async () => (await laptop.verificationOf('bob_kc')) === 'default', 10_000, 'the laptop agreeing');
    await alice.markVerified('bob_kc', (await alice.safetyNumber('bob_kc')).digits);

    // The server rolls Bob back to the old key with the list it had: refused, nothing changes.
    await newBob.close();
    restoreAccount(server, original);
    const failed = alice.once('send-failed');
    await expect(alice.sendText('bob_kc', 'to the rolled-back key')).rejects.toThrow(/does not verify/);
    expect((await failed).chatId).toBe('bob_kc');
    expect(await alice.verificationOf('bob_kc')).toBe('verified');
    const rolledBack = await alice.safetyNumber('bob_kc');
    expect(rolledBack.digits).not.toBe(before);

    // The old key with a newer list than any it had is a genuine change back: shown again.
    const oldBob = (await loadIdentity(bobStore))!;
    await replaceList(
      server,
      oldBob,
      [{ deviceId: oldBob.deviceId, kind: 'primary', identity: publicIdentity(oldBob.device), linkedAt: Date.now() }],
      (original.account.list_version as number) + 1,
    );
    const changedBack = alice.once('identity-changed');
    const retried = (await alice.pendingMessages())[0]!;
    void alice.retry(retried.messageId).catch(() => {});
    await changedBack;
    expect(await alice.verificationOf('bob_kc')).toBe('held');
    expect((await alice.safetyNumber('bob_kc')).digits).toBe(before);
    for (const client of [alice, laptop, carol]) await client.close();
  });
});

describe('[VERIFY-1] "Mark as verified" is about the number the person compared', () => {
  it('is refused, deciding nothing, when the key changed after the digits were shown', async () => {
    const alice = await createPrimary(server, 'alice_shown');
    const bob = await createPrimary(server, 'bob_shown');
    await alice.sendText('bob_shown', 'hello');
    const shown = (await alice.safetyNumber('bob_shown')).digits;
    await bob.close();
    const newBob = await reinstallAccount(server, 'bob_shown');
    // Alice's app hears of the new key (here: when she next writes to Bob).
    const changed = alice.once('identity-changed');
    void alice.sendText('bob_shown', 'after the change').catch(() => {});
    await changed;
    await expect(alice.markVerified('bob_shown', shown)).rejects.toBeInstanceOf(SafetyNumberChangedError);
    expect(await alice.verificationOf('bob_shown')).toBe('default');
    // The new number, shown and compared, verifies.
    const current = (await alice.safetyNumber('bob_shown')).digits;
    expect(current).not.toBe(shown);
    await alice.markVerified('bob_shown', current);
    expect(await alice.verificationOf('bob_shown')).toBe('verified');
    for (const client of [alice, newBob]) await client.close();
  });
});

describe('[SEND-1] a refused send', () => {
  it('is kept, failed, with its reason, survives a restart without being retried, and "Retry" sends it once the refusal is gone', async () => {
    const danaStore = new MemoryStore();
    const dana = await createPrimary(server, 'dana_send', danaStore);
    const failed = dana.once('send-failed');
    await expect(dana.sendText('erin_send', 'hello?')).rejects.toMatchObject({ code: 'UNKNOWN_ACCOUNT' });
    const failure = await failed;
    expect(failure).toMatchObject({ chatId: 'erin_send', code: 'UNKNOWN_ACCOUNT' });
    const refused: unknown = expect.objectContaining({ code: 'UNKNOWN_ACCOUNT' });
    const pending = [{ messageId: failure.messageId, chatId: 'erin_send', failure: refused }];
    expect(await dana.pendingMessages()).toEqual(pending);
    await dana.close();
    const erin = await createPrimary(server, 'erin_send');
    const atErin = inbox(erin);
    // After a restart it is still there, still failed: nothing sends it behind the person's back.
    const again = (await PairwiseClient.open(connectOptions(server, danaStore)))!;
    await again.ready();
    await pause(500);
    expect(atErin).toEqual([]);
    expect(await again.pendingMessages()).toEqual(pending);
    await again.retry(failure.messageId);
    await eventually(() => atErin.includes('hello?'), 10_000, 'the retried message');
    expect(await again.pendingMessages()).toEqual([]);
    await again.close();
    await erin.close();
  });
});
