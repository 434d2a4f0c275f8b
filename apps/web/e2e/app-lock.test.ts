// The companion's app lock end to end (SPEC LOCK-*), in Debian's Chromium against the real server:
// a Node phone links a browser, a passcode is set, and then: the "Lock now" button leaves nothing
// of the chats in the page or in IndexedDB as plaintext; a message that arrives while locked is stored
// sealed and appears after the passcode; the idle timer locks after 1 minute (Playwright's clock);
// a reload starts locked; notifications say only "New message" while locked; 10 wrong passcodes
// log the browser out, leaving no database, and the phone's list no longer has it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PairwiseClient } from '@pairwise/client/pairwise-client';
import { removeDataDir, type ServerProcess } from '@pairwise/testing/server-process';
import { createPrimary, eventually } from '@pairwise/testing/test-clients';
import type { Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accessibilityViolations,
  browserStorage,
  indexedDbDump,
  launchCompanion,
  linkWithNodePrimary,
  skipReason,
  startE2eServer,
  type LaunchedCompanion,
} from './support/harness.js';

// Strong enough for the passcode rule (LOCK-9), like the new one below.
const PASSCODE = 'lantern ferry 42';
const NEW_PASSCODE = 'harbour lights 77';
const FIRST = 'The spare key is under the blue flowerpot';
const SECOND = 'Sent while you were locked: meet at the ferry at six';
const THIRD = 'A notification may show this text';
const FOURTH = 'A notification must not show this text';

/** The Notification API replaced by a recorder, and a page that can be made to look hidden. */
const FAKE_NOTIFICATIONS = `
  window.__notifications = [];
  window.__hidden = false;
  class RecordingNotification {
    constructor(title, options) { window.__notifications.push({ title, body: (options && options.body) || '' }); }
    static get permission() { return 'granted'; }
    static requestPermission() { return Promise.resolve('granted'); }
  }
  Object.defineProperty(window, 'Notification', { value: RecordingNotification, configurable: true, writable: true });
  Object.defineProperty(document, 'visibilityState', { get: () => (window.__hidden ? 'hidden' : 'visible'), configurable: true });
`;

describe.skipIf(skipReason('app lock') !== null)('app lock in Chromium', () => {
  const problems: string[] = [];
  let server: ServerProcess;
  let work: string;
  let alice: PairwiseClient;
  let bob: PairwiseClient;
  let companion: LaunchedCompanion;
  let page: Page;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'pairwise-lock-e2e-'));
    server = await startE2eServer();
    [alice, bob] = await Promise.all([createPrimary(server, 'alice'), createPrimary(server, 'bob')]);
  });

  afterAll(async () => {
    await companion?.close();
    await alice?.close();
    await bob?.close();
    await server?.stop();
    if (server) removeDataDir(server);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const passcodeBox = () => page.getByRole('textbox', { name: 'Passcode', exact: true });
  const messages = () => page.getByRole('log', { name: 'Messages' });

  async function menu(item: string): Promise<void> {
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('menuitem', { name: item }).click();
  }

  async function unlock(): Promise<void> {
    await passcodeBox().fill(PASSCODE);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('heading', { name: 'Chats', exact: true }).waitFor({ timeout: 10_000 });
  }

  /** How many records the device database's messages table holds (sealed or not). */
  async function storedMessages(): Promise<number> {
    const dump = JSON.parse(await indexedDbDump(page)) as Record<string, Record<string, unknown[]>>;
    return dump['pairwise-device']?.messages?.length ?? 0;
  }

  it('[LOCK-1] [LOCK-2] [LOCK-5] locked, nothing of the chats is in the page or stored in plaintext; what arrives meanwhile shows after unlock', async () => {
    companion = await launchCompanion({ server, problems, profile: join(work, 'profile'), fakeClock: true });
    page = companion.page;
    await linkWithNodePrimary(alice, page);
    await bob.sendText('alice', FIRST);
    await page.getByRole('link', { name: /^bob/ }).click();
    await messages().getByText(FIRST).waitFor();
    // Without a passcode the history is stored as it is: the dump can see it.
    expect(await indexedDbDump(page)).toContain(FIRST);

    await menu('App lock…');
    const dialog = page.getByRole('dialog', { name: 'App lock' });
    // [LOCK-9] The weakest passcodes are refused: the meter and its words say why, and the button stays off.
    const turnOn = dialog.getByRole('button', { name: 'Turn on app lock' });
    expect(await turnOn.isDisabled()).toBe(true);
    await dialog.getByLabel('New passcode').fill('123456');
    await dialog.getByLabel('Repeat passcode').fill('123456');
    await dialog.getByText('Strength: Very weak. Too easy to guess.').waitFor({ timeout: 10_000 });
    const meter = dialog.getByRole('meter', { name: 'Passcode strength' });
    expect(await meter.evaluate((element) => (element as unknown as { value: number }).value)).toBe(0);
    expect(await meter.getAttribute('aria-valuetext')).toBe('Very weak');
    expect(await turnOn.isDisabled()).toBe(true);
    await dialog.getByLabel('New passcode').fill(PASSCODE);
    await dialog.getByText('Strength: Very strong.').waitFor();
    expect(await turnOn.isDisabled()).toBe(false);
    await dialog.getByLabel('Repeat passcode').fill('lantern ferry 43');
    await dialog.getByRole('combobox', { name: 'Lock after' }).selectOption('1');
    expect(await accessibilityViolations(page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Turn on app lock' }).click();
    await dialog.getByText('The two passcodes differ').waitFor();
    await dialog.getByLabel('Repeat passcode').fill(PASSCODE);
    await dialog.getByRole('button', { name: 'Turn on app lock' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 10_000 });
    // Turning the lock on sealed the history already stored.
    expect(await indexedDbDump(page)).not.toContain(FIRST);
    await messages().getByText(FIRST).waitFor();

    await page.getByRole('button', { name: 'Lock now' }).click();
    await passcodeBox().waitFor();
    const locked = await page.content();
    expect(locked).not.toContain(FIRST);
    expect(locked).not.toContain('flowerpot');
    expect(await page.getByRole('link', { name: /^bob/ }).count()).toBe(0);
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(await indexedDbDump(page)).not.toContain('flowerpot');

    await bob.sendText('alice', SECOND);
    await eventually(async () => (await storedMessages()) === 2, 10_000, 'the message sent while locked to be stored');
    expect(await page.content()).not.toContain('ferry');
    const dump = await indexedDbDump(page);
    expect(dump).not.toContain('ferry');
    expect(dump).not.toContain('flowerpot');

    await unlock();
    await page.getByRole('link', { name: /^bob/ }).click();
    await messages().getByText(FIRST).waitFor();
    await messages().getByText(SECOND).waitFor();
  });

  it('[LOCK-7] locks by itself after 1 minute without activity', async () => {
    await page.clock.fastForward('00:50');
    await server.advanceClock(50_000);
    expect(await passcodeBox().count()).toBe(0);
    await page.clock.fastForward('00:11');
    await server.advanceClock(11_000);
    await passcodeBox().waitFor({ timeout: 5000 });
    expect(await page.content()).not.toContain('flowerpot');
    await unlock();
  });

  it('[LOCK-5] [LOCK-8] a reload starts locked; notifications say only "New message" while locked', async () => {
    await companion.context.addInitScript(FAKE_NOTIFICATIONS);
    await page.reload();
    await passcodeBox().waitFor({ timeout: 10_000 });
    expect(await page.content()).not.toContain('flowerpot');
    await unlock();

    await menu('App lock…');
    const dialog = page.getByRole('dialog', { name: 'App lock' });
    await dialog.getByRole('checkbox', { name: 'Show notifications' }).click();
    await expect.poll(() => dialog.getByRole('checkbox', { name: 'Show notifications' }).isChecked()).toBe(true);
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    await page.evaluate('window.__hidden = true');
    await bob.sendText('alice', THIRD);
    await expect.poll(() => page.evaluate('window.__notifications'), { timeout: 10_000 }).toEqual([{ title: 'bob', body: THIRD }]);
    await page.evaluate('window.__hidden = false');
    await page.getByRole('button', { name: 'Lock now' }).click();
    await passcodeBox().waitFor();
    await page.evaluate('window.__hidden = true; window.__notifications = []');
    await bob.sendText('alice', FOURTH);
    await expect.poll(() => page.evaluate('window.__notifications'), { timeout: 10_000 }).toEqual([{ title: 'Pairwise', body: 'New message' }]);
    await page.evaluate('window.__hidden = false');
  });

  it('[LOCK-6] the passcode changes and the lock turns off with the current passcode; off, the history is stored as it is', async () => {
    await unlock();
    await menu('App lock…');
    const dialog = page.getByRole('dialog', { name: 'App lock' });
    await dialog.getByLabel('Current passcode').fill('not-the-passcode');
    await dialog.getByLabel('New passcode (optional)').fill(NEW_PASSCODE);
    await dialog.getByLabel('Repeat passcode').fill(NEW_PASSCODE);
    await dialog.getByRole('combobox', { name: 'Lock after' }).selectOption('15');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByText('Wrong current passcode. 9 attempts left.').waitFor({ timeout: 10_000 });
    await dialog.getByLabel('Current passcode').fill(PASSCODE);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 10_000 });

    await page.getByRole('button', { name: 'Lock now' }).click();
    await passcodeBox().fill(PASSCODE);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByText('Wrong passcode. 9 attempts left.').waitFor({ timeout: 10_000 });
    await passcodeBox().fill(NEW_PASSCODE);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('heading', { name: 'Chats', exact: true }).waitFor({ timeout: 10_000 });

    await menu('App lock…');
    await expect.poll(() => dialog.getByRole('combobox', { name: 'Lock after' }).inputValue()).toBe('15');
    await dialog.getByLabel('Current passcode').fill(NEW_PASSCODE);
    await dialog.getByRole('button', { name: 'Turn off app lock' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 10_000 });
    expect(await indexedDbDump(page)).toContain(FIRST);
    expect(await page.getByRole('button', { name: 'Lock now' }).count()).toBe(0);
    await menu('App lock…');
    await dialog.getByLabel('New passcode').fill(PASSCODE);
    await dialog.getByLabel('Repeat passcode').fill(PASSCODE);
    await dialog.getByRole('button', { name: 'Turn on app lock' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 10_000 });
    expect(await indexedDbDump(page)).not.toContain(FIRST);
    await page.getByRole('button', { name: 'Lock now' }).click();
    await passcodeBox().waitFor();
  });

  it('[LOCK-4] ten wrong passcodes log the browser out: no database is left and the phone no longer lists it', async () => {
    expect((await alice.devices()).some((device) => device.kind === 'companion')).toBe(true);
    for (let attempt = 1; attempt <= 9; attempt++) {
      await passcodeBox().fill(`wrong-${attempt}`);
      await page.getByRole('button', { name: 'Unlock' }).click();
      const left = 10 - attempt;
      await page.getByText(left === 1 ? 'Wrong passcode. 1 attempt left' : `Wrong passcode. ${left} attempts left.`).waitFor({ timeout: 10_000 });
    }
    await passcodeBox().fill('wrong-10');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByText('You logged out.').waitFor({ timeout: 10_000 });
    await page.getByRole('img', { name: 'Link QR code' }).waitFor();
    expect(await browserStorage(page)).toEqual({ databases: [], caches: [], workers: 0 });
    await eventually(async () => !(await alice.devices()).some((device) => device.kind === 'companion'), 10_000, 'the phone to drop the computer');
  });

  it('no page logged an error or had a request fail', () => {
    expect(problems).toEqual([]);
  });
});
