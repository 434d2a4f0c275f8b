// Integration: the two-step PIN against a real server process (SPEC PIN-*): its format, approvals
// that need it, growing delays and the hour-long lock with its alert (driven by the server's fake
// clock), the reminder schedule, and that the server keeps only an Argon2id hash.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { RequestError } from '@pairwise/client/errors';
import { LinkRequest } from '@pairwise/client/link-request';
import { MemoryStore } from '@pairwise/client/memory-store';
import { PairwiseClient } from '@pairwise/client/pairwise-client';
import { DAY_MS } from '@pairwise/protocol/limits';
import { RawConnection } from './raw-connection.js';
import type { ServerProcess } from './server-process.js';
import { TestClock } from './test-support/test-clock.js';
import { useServerProcess } from './test-support/use-server-process.js';
import { connectOptions, createPrimary, eventually, linkCompanion } from './test-clients.js';

let server: ServerProcess;
useServerProcess({ get: () => server, set: (started) => (server = started) });
const clock = new TestClock(() => server);

/** The SDK's SecurityState (its module is not a package export). */
type SecurityState = NonNullable<PairwiseClient['security']>;

const PIN = '482913';
const OTHER_PIN = '705126';
const WRONG = '000000';

async function phone(username: string, store = new MemoryStore()): Promise<PairwiseClient> {
  return createPrimary(server, username, store, clock.now);
}

/** A companion's link request showing its first code; cancel it when done. */
async function showCode(): Promise<{ request: LinkRequest; qr: string }> {
  const request = new LinkRequest({ ...connectOptions(server, new MemoryStore(), clock.now), deviceName: 'Unknown browser' });
  const qr = request.once('qr');
  await request.start();
  return { request, qr: (await qr).text };
}

/** One approval on a fresh code with `pin`: the server's refusal, or null when it was accepted. */
async function approveWith(primary: PairwiseClient, pin?: string): Promise<RequestError | null> {
  const { request, qr } = await showCode();
  try {
    const { approve } = await primary.inspectLink(qr);
    await approve(pin);
    return null;
  } catch (error) {
    if (error instanceof RequestError) return error;
    throw error;
  } finally {
    request.cancel();
  }
}

async function companionCount(primary: PairwiseClient): Promise<number> {
  return (await primary.devices()).filter((device) => device.kind === 'companion').length;
}

/** Every 'security' event a client reports, with its alert. */
function securityEvents(client: PairwiseClient): { security: SecurityState; alert: string | null }[] {
  const seen: { security: SecurityState; alert: string | null }[] = [];
  client.on('security', (event) => seen.push(event));
  return seen;
}

describe('[PIN-1] turning the PIN on, changing it, turning it off', () => {
  it('only six ASCII digits are accepted, whatever a client sends', async () => {
    const store = new MemoryStore();
    const alice = await phone('alice_pinfmt', store);
    const raw = await RawConnection.open(server);
    await raw.authenticateAs(store, server.origin);
    for (const newPin of ['12345', '1234567', 'abcdef', '12 456', '١٢٣٤٥٦', '12345\n']) {
      const response = await raw.request({ case: 'setPin', value: { newPin, currentPin: '' } });
      expect(response.error?.code, JSON.stringify(newPin)).toBe('BAD_REQUEST');
    }
    raw.close();
    expect((await alice.refreshSecurity()).pinEnabled).toBe(false);
    const on = await alice.setPin(PIN);
    expect(on.pinEnabled).toBe(true);
    await alice.close();
  });

  it('is turned on by the phone, and every device of the account hears of it', async () => {
    const alice = await phone('alice_pinon');
    const laptop = await linkCompanion(server, alice, { now: clock.now });
    const onLaptop = securityEvents(laptop);
    expect(laptop.security?.pinEnabled).toBe(false);
    await alice.setPin(PIN);
    await eventually(() => onLaptop.some((event) => event.security.pinEnabled), 3000, 'the companion told');
    expect(laptop.security?.pinEnabled).toBe(true);
    await Promise.all([alice.close(), laptop.close()]);
  });

  it('changing or turning it off needs the current PIN', async () => {
    const alice = await phone('alice_pinchange');
    await alice.setPin(PIN);
    // Turning it "on" again over the current PIN is a change without the current PIN.
    await expect(alice.setPin(OTHER_PIN)).rejects.toMatchObject({ code: 'PIN_REQUIRED' });
    await expect(alice.setPin(OTHER_PIN, WRONG)).rejects.toMatchObject({ code: 'PIN_WRONG', triesLeft: 9 });
    await expect(alice.disablePin(WRONG)).rejects.toMatchObject({ code: 'PIN_WRONG', triesLeft: 8 });
    expect((await alice.refreshSecurity()).pinEnabled).toBe(true);
    // The old PIN still works: nothing was changed by the refused requests.
    expect((await alice.verifyPin(PIN)).pinFailures).toBe(0);

    const changed = await alice.setPin(OTHER_PIN, PIN);
    expect(changed.pinEnabled).toBe(true);
    await expect(alice.verifyPin(PIN)).rejects.toMatchObject({ code: 'PIN_WRONG' });
    expect(await approveWith(alice, PIN)).toMatchObject({ code: 'PIN_WRONG' });
    await alice.verifyPin(OTHER_PIN);

    const off = await alice.disablePin(OTHER_PIN);
    expect(off).toMatchObject({ pinEnabled: false, pinReminderAt: 0, pinFailures: 0 });
    await expect(alice.disablePin(OTHER_PIN)).rejects.toMatchObject({ code: 'PIN_NOT_SET' });
    // While it is off there is no current PIN to present: one sent along is refused, not ignored.
    await expect(alice.setPin(PIN, OTHER_PIN)).rejects.toMatchObject({ code: 'PIN_NOT_SET' });
    expect((await alice.refreshSecurity()).pinEnabled).toBe(false);
    // Off: approvals need no PIN again.
    expect(await approveWith(alice)).toBeNull();
    expect(await companionCount(alice)).toBe(1);
    await alice.close();
  });
});

describe('[PIN-2] every link approval needs the PIN while it is on', () => {
  it('without the PIN or with a wrong one nothing is linked; with the right one the device is', async () => {
    const alice = await phone('alice_pinlink');
    const { request, qr } = await showCode();
    expect((await alice.inspectLink(qr)).details.pinRequired).toBe(false);
    request.cancel();

    await alice.setPin(PIN);
    const { request: second, qr: code } = await showCode();
    const { details, approve } = await alice.inspectLink(code);
    expect(details.pinRequired).toBe(true);
    // The SDK sends an empty PIN here, exactly as a client that ignores pinRequired would.
    await expect(approve()).rejects.toMatchObject({ code: 'PIN_REQUIRED' });
    const wrong = await approve(WRONG).catch((error: unknown) => error);
    expect(wrong).toMatchObject({ code: 'PIN_WRONG', triesLeft: 9, retryAt: 0 });
    await expect(approve('12345')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    second.cancel();
    expect(await companionCount(alice)).toBe(0);

    const laptop = await linkCompanion(server, alice, { now: clock.now, pin: PIN });
    expect((await alice.devices()).map((device) => device.deviceId)).toContain(laptop.deviceId);
    expect((await alice.refreshSecurity()).pinFailures).toBe(0);
    await Promise.all([alice.close(), laptop.close()]);
  });
});

describe('[PIN-3] [ALERT-2] wrong PINs: growing delays from the 5th, an hour-long lock at the 10th', () => {
  it('counts every wrong try, refuses even the right PIN while waiting or locked, alerts every device', async () => {
    const aliceStore = new MemoryStore();
    const alice = await phone('alice_pinlock', aliceStore);
    const laptop = await linkCompanion(server, alice, { now: clock.now });
    const tabletStore = new MemoryStore();
    const tablet = await linkCompanion(server, alice, { now: clock.now, store: tabletStore });
    await tablet.close(); // offline while the PIN is locked
    await alice.setPin(PIN);
    const onPhone = securityEvents(alice);
    const onLaptop = securityEvents(laptop);

    // 1-4: refused, no waiting. The reminder and a change of PIN count the same as approvals.
    expect(await approveWith(alice, WRONG)).toMatchObject({ code: 'PIN_WRONG', triesLeft: 9, retryAt: 0 });
    expect(await approveWith(alice, WRONG)).toMatchObject({ code: 'PIN_WRONG', triesLeft: 8, retryAt: 0 });
    await expect(alice.verifyPin(WRONG)).rejects.toMatchObject({ code: 'PIN_WRONG', triesLeft: 7, retryAt: 0 });
    await expect(alice.setPin(OTHER_PIN, WRONG)).rejects.toMatchObject({ code: 'PIN_WRONG', triesLeft: 6, retryAt: 0 });

    // 5: from now on each try waits, 30 s first.
    const fifth = await approveWith(alice, WRONG);
    expect(fifth).toMatchObject({ code: 'PIN_WRONG', triesLeft: 5 });
    const now = clock.now();
    expect(fifth!.retryAt).toBeGreaterThan(now + 25_000);
    expect(fifth!.retryAt).toBeLessThanOrEqual(now + 30_000);
    // Even the right PIN is not looked at before retryAt.
    expect(await approveWith(alice, PIN)).toMatchObject({ code: 'PIN_RATE_LIMITED', retryAt: fifth!.retryAt });
    await expect(alice.verifyPin(PIN)).rejects.toMatchObject({ code: 'PIN_RATE_LIMITED', retryAt: fifth!.retryAt });
    expect(await companionCount(alice)).toBe(2);

    // 6-9: each wait doubles: 1, 2, 4, 8 minutes.
    let wait = 30_000;
    for (let failures = 6; failures <= 9; failures++) {
      await clock.advance(wait + 1000);
      const refusal = await approveWith(alice, WRONG);
      wait *= 2;
      expect(refusal).toMatchObject({ code: 'PIN_WRONG', triesLeft: 10 - failures });
      expect(refusal!.retryAt - clock.now()).toBeGreaterThan(wait - 5000);
      expect(refusal!.retryAt - clock.now()).toBeLessThanOrEqual(wait);
    }

    // 10: locked for an hour; every connected device is alerted.
    await clock.advance(wait + 1000);
    const tenth = await approveWith(alice, WRONG);
    expect(tenth).toMatchObject({ code: 'PIN_WRONG', triesLeft: 0 });
    const lockedUntil = tenth!.retryAt;
    expect(lockedUntil - clock.now()).toBeGreaterThan(3_595_000);
    expect(lockedUntil - clock.now()).toBeLessThanOrEqual(3_600_000);
    for (const [name, seen] of [['phone', onPhone], ['laptop', onLaptop]] as const) {
      await eventually(() => seen.some((event) => event.alert === 'pin-locked'), 3000, `the ${name} alerted`);
      const alert = seen.find((event) => event.alert === 'pin-locked')!;
      expect(alert.security.pinLockedUntil).toBe(lockedUntil);
      expect(alert.security.pinFailures).toBe(10);
    }
    // The companion that was offline sees the lock when it connects.
    const back = (await PairwiseClient.open(connectOptions(server, tabletStore, clock.now)))!;
    await back.ready();
    expect(back.security?.pinLockedUntil).toBe(lockedUntil);

    // Locked: the right PIN is refused until the hour is over, for approvals and the reminder.
    expect(await approveWith(alice, PIN)).toMatchObject({ code: 'PIN_LOCKED', retryAt: lockedUntil });
    await clock.advance(30 * 60_000);
    await expect(alice.verifyPin(PIN)).rejects.toMatchObject({ code: 'PIN_LOCKED', retryAt: lockedUntil });

    // After the hour, one more wrong PIN locks it again at once.
    await clock.advance(30 * 60_000 + 1000);
    const again = await approveWith(alice, WRONG);
    expect(again).toMatchObject({ code: 'PIN_WRONG', triesLeft: 0 });
    expect(again!.retryAt - clock.now()).toBeGreaterThan(3_595_000);
    expect(await approveWith(alice, PIN)).toMatchObject({ code: 'PIN_LOCKED', retryAt: again!.retryAt });

    // After that hour the right PIN links, and the count starts again.
    await clock.advance(60 * 60_000 + 1000);
    const desk = await linkCompanion(server, alice, { now: clock.now, pin: PIN });
    expect(await companionCount(alice)).toBe(3);
    expect(await alice.refreshSecurity()).toMatchObject({ pinFailures: 0, pinNextTryAt: 0, pinLockedUntil: 0 });
    await eventually(() => laptop.security?.pinLockedUntil === 0, 3000, 'the laptop told the lock is over');

    // [SECLOG-1] every wrong try and both locks are in the log, with the phone's network.
    const log = await alice.securityLog();
    expect(log.filter((entry) => entry.kind === 'pin-failed')).toHaveLength(11);
    expect(log.filter((entry) => entry.kind === 'pin-locked')).toHaveLength(2);
    for (const entry of log.filter((item) => item.kind.startsWith('pin-'))) expect(entry.network).toBe('127.0.0.0/24');
    await Promise.all([alice.close(), laptop.close(), back.close(), desk.close()]);
  });
});

describe('[PIN-3] tries sent at once', () => {
  it('many wrong PINs sent together on several sockets are counted one by one: five refused as wrong, the rest wait or are turned away', async () => {
    const store = new MemoryStore();
    const alice = await phone('alice_pinrace', store);
    await alice.setPin(PIN);
    const sockets = await Promise.all([0, 1, 2].map(() => RawConnection.open(server)));
    for (const raw of sockets) expect((await raw.authenticateAs(store, server.origin, clock.now)).result.case).toBe('authenticated');
    // Waves of 15 at once, until the delays after the fifth wrong PIN start: the bound on PIN work
    // (LIMIT-7) lets a few of each wave in and turns the rest away; those let in are counted one by one.
    const codes: (string | undefined)[] = [];
    for (let wave = 0; wave < 10 && !codes.includes('PIN_RATE_LIMITED'); wave++) {
      const answers = await Promise.all(
        Array.from({ length: 15 }, (_, index) => {
          const raw = sockets[index % sockets.length]!;
          return index % 2 === 0
            ? raw.request({ case: 'verifyPin', value: { pin: WRONG } })
            : raw.request({ case: 'setPin', value: { currentPin: WRONG, newPin: OTHER_PIN } });
        }),
      );
      codes.push(...answers.map((answer) => answer.error?.code));
    }
    expect(codes.filter((code) => code === 'PIN_WRONG')).toHaveLength(5);
    expect(codes.includes('PIN_RATE_LIMITED')).toBe(true);
    expect(codes.every((code) => code === 'PIN_WRONG' || code === 'PIN_RATE_LIMITED' || code === 'SERVER_BUSY')).toBe(true);
    for (const raw of sockets) raw.close();
    expect(await alice.refreshSecurity()).toMatchObject({ pinEnabled: true, pinFailures: 5 });
    expect((await alice.securityLog()).filter((entry) => entry.kind === 'pin-failed')).toHaveLength(5);
    await alice.close();
  });
});

describe('[PIN-4] the reminder', () => {
  it('comes after 1, 3 and 7 days, then every 14; right answers move it on, wrong ones do not', async () => {
    const alice = await phone('alice_pinremind');
    const set = await alice.setPin(PIN);
    const expectNext = (state: SecurityState, days: number) => {
      expect(state.pinReminderDue).toBe(false);
      expect(Math.abs(state.pinReminderAt - state.serverTime - days * DAY_MS)).toBeLessThan(5000);
    };
    expectNext(set, 1);
    for (const days of [1, 3, 7, 14, 14]) {
      const before = await alice.refreshSecurity();
      await clock.advance(before.pinReminderAt - before.serverTime - 60_000);
      expect((await alice.refreshSecurity()).pinReminderDue).toBe(false);
      await clock.advance(2 * 60_000);
      const due = await alice.refreshSecurity();
      expect(due.pinReminderDue).toBe(true);
      // A wrong answer counts as a wrong try but does not move the reminder on.
      await expect(alice.verifyPin(WRONG)).rejects.toMatchObject({ code: 'PIN_WRONG' });
      expect((await alice.refreshSecurity()).pinReminderAt).toBe(due.pinReminderAt);
      const next = await alice.verifyPin(PIN);
      expectNext(next, days === 1 ? 3 : days === 3 ? 7 : 14);
    }
    await alice.close();
  });
});

describe('[PIN-5] the server keeps only an Argon2id hash', () => {
  it('the database holds a PHC string and never the digits; the log never shows them', async () => {
    const pin = '917355';
    const alice = await phone('alice_pinhash');
    await alice.setPin(pin);
    await alice.verifyPin(pin);
    const db = new Database(join(server.dataDir, 'pairwise.sqlite'), { readonly: true });
    let stored: string;
    try {
      stored = (db.prepare('select pin_hash from account_security where account_id = ?').get('alice_pinhash') as { pin_hash: string }).pin_hash;
    } finally {
      db.close();
    }
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(stored).not.toContain(pin);
    for (const file of ['pairwise.sqlite', 'pairwise.sqlite-wal']) {
      const path = join(server.dataDir, file);
      if (existsSync(path)) expect(readFileSync(path).includes(Buffer.from(pin)), file).toBe(false);
    }
    expect(server.output()).not.toContain(pin);
    expect(server.output()).not.toContain(stored);
    await alice.close();
  });
});
