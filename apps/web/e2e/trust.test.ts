// Trust in the web app, end to end, in Debian's Chromium against the real server process:
// - one device, one tab (SPEC DEVICE-1): carol's computer (linked to carol, a Node primary) opened
//   in a second tab of the same browser says "Pairwise is open in another tab"; "Use here" moves
//   the device there and back, the tab that lost it keeps nothing on screen and its database is
//   untouched, and every message sent from either tab reaches dave (a Node primary) exactly once;
// - safety numbers (SPEC SAFETY-1, VERIFY-1): alice's phone (a browser that made the account)
//   and carol's computer show the same 12 groups of 5 digits; a code of another pair is refused
//   as not matching, a QR code that is no safety number as such, and the phone's fake camera,
//   filming carol's code off a screenshot, verifies carol;
// - a key change (SPEC VERIFY-2, VERIFY-3): dave's account gets a new key on the server (written
//   into its SQLite database, see support/account-key.ts); alice, who verified dave, sees
//   "dave's safety number changed", and what she writes waits until "Send anyway";
// - the phone moves between its tabs the same way, and a closed tab lets the device go;
// - with an app lock passcode set, the tab that takes the device over opens locked.
// axe-core checks the new screens; a console error, page error or failed request fails the suite.
// Run with `npm run build && node_modules/.bin/vitest run --project e2e apps/web/e2e/trust.test.ts`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '@pairwise/client/memory-store';
import type { PairwiseClient } from '@pairwise/client/pairwise-client';
import { removeDataDir, type ServerProcess } from '@pairwise/testing/server-process';
import { createPrimary, eventually } from '@pairwise/testing/test-clients';
import type { Locator, Page } from 'playwright';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replaceAccountKey } from './support/account-key.js';
import { hideAccount } from './support/server-database.js';
import {
  accessibilityViolations,
  browserStorage,
  filmForFakeCamera,
  launchCompanion,
  linkWithNodePrimary,
  skipReason,
  startE2eServer,
  watch,
  type LaunchedCompanion,
} from './support/harness.js';

const IN_ANOTHER_TAB = 'Pairwise is open in another tab';
// Strong enough for the passcode rule (LOCK-9).
const PASSCODE = 'lantern ferry 42';

describe.skipIf(skipReason('trust', { ffmpeg: true }) !== null)('trust in Chromium', () => {
  const problems: string[] = [];
  let server: ServerProcess;
  let work: string;
  let carol: PairwiseClient;
  let dave: PairwiseClient;
  const daveStore = new MemoryStore();
  /** Texts dave received, by sender, in the order they came. */
  const received = new Map<string, string[]>();
  let computer: LaunchedCompanion;
  /** carol's computer, the tab it was linked in. */
  let firstTab: Page;
  let secondTab: Page;
  let phone: LaunchedCompanion | null = null;
  const phoneProfile = () => join(work, 'phone-profile');

  function listen(client: PairwiseClient): void {
    client.on('message', (message) => {
      if (message.outgoing) return;
      received.set(message.senderAccountId, [...(received.get(message.senderAccountId) ?? []), message.text]);
    });
  }
  const daveGot = (from: string) => received.get(from) ?? [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'pairwise-trust-'));
    // The embedded SQLite, whatever DATABASE_URL_FOR_SERVER says: the key change is written into it.
    server = await startE2eServer({ DATABASE_URL: '' });
    [carol, dave] = await Promise.all([createPrimary(server, 'carol'), createPrimary(server, 'dave', daveStore)]);
    listen(dave);
  });

  afterAll(async () => {
    await phone?.close();
    await computer?.close();
    await carol?.close();
    await dave?.close();
    await server?.stop();
    if (server) removeDataDir(server);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const messages = (page: Page) => page.getByRole('log', { name: 'Messages' });
  const inAnotherTab = (page: Page) => page.getByRole('heading', { name: IN_ANOTHER_TAB });
  const chatsHeading = (page: Page) => page.getByRole('heading', { name: 'Chats', exact: true, level: 2 });

  /** "New chat" with `name`; returns once the conversation is open. */
  async function startChat(page: Page, name: string): Promise<void> {
    await page.getByRole('button', { name: 'New chat' }).click();
    await page.getByRole('textbox', { name: 'Contact’s username' }).fill(name);
    await page.getByRole('button', { name: 'Start chat' }).click();
    await page.getByRole('heading', { name, exact: true }).waitFor();
  }

  async function send(page: Page, text: string): Promise<void> {
    await page.getByRole('textbox', { name: 'Message' }).fill(text);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await messages(page).getByText(text).waitFor();
  }

  /** Opens "Verify safety number" and waits for the digits. */
  async function openSafetyNumber(page: Page, name: string): Promise<Locator> {
    await page.getByRole('button', { name: 'Verify safety number' }).click();
    const dialog = page.getByRole('dialog', { name: `Safety number with ${name}` });
    await dialog.getByRole('region', { name: 'Safety number' }).waitFor({ timeout: 10_000 });
    return dialog;
  }

  /** The groups the dialog's "Safety number" region shows. */
  async function groupsIn(dialog: Locator): Promise<string[]> {
    return ((await dialog.getByRole('region', { name: 'Safety number' }).textContent()) ?? '').trim().split(/\s+/);
  }

  async function scanImage(page: Page, dialog: Locator, png: string): Promise<void> {
    const chooser = page.waitForEvent('filechooser');
    await dialog.getByRole('button', { name: 'Scan from image' }).click();
    await (await chooser).setFiles(png);
  }

  /** alice's phone: its own browser process (its fake camera films `video`), the account in its profile. */
  async function openPhone(video: string | null, path = '/'): Promise<Page> {
    await phone?.close();
    const camera = video === null ? [] : ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`];
    phone = await launchCompanion({ server, problems, who: 'alice’s phone', profile: phoneProfile(), path, args: camera, viewport: { width: 412, height: 860 } });
    return phone.page;
  }

  it('[DEVICE-1] a second tab says “Pairwise is open in another tab”; “Use here” moves the device there and back, and every message arrives once', async () => {
    computer = await launchCompanion({ server, problems, who: 'carol’s computer, first tab' });
    firstTab = computer.page;
    await linkWithNodePrimary(carol, firstTab);
    await startChat(firstTab, 'dave');
    await send(firstTab, 'Before the move');
    await eventually(() => daveGot('carol').includes('Before the move'), 10_000, 'dave gets the first message');

    secondTab = watch(await computer.context.newPage(), 'carol’s computer, second tab', problems);
    await secondTab.goto(server.origin);
    await inAnotherTab(secondTab).waitFor({ timeout: 10_000 });
    expect(await accessibilityViolations(secondTab)).toEqual([]);

    await secondTab.getByRole('button', { name: 'Use here' }).click();
    await chatsHeading(secondTab).waitFor({ timeout: 10_000 });
    // The first tab let the device go: nothing of the chats stays on its screen, and the
    // database it worked on is left as it was (the second tab reads the chat from it).
    await inAnotherTab(firstTab).waitFor({ timeout: 5000 });
    expect(await firstTab.getByRole('log').count()).toBe(0);
    expect(await firstTab.getByText('Before the move').count()).toBe(0);
    expect((await browserStorage(firstTab)).databases).toEqual(['pairwise-device']);
    expect(await accessibilityViolations(firstTab)).toEqual([]);
    await secondTab.getByRole('link', { name: /^dave/ }).click();
    await messages(secondTab).getByText('Before the move').waitFor();
    await send(secondTab, 'From the second tab');
    await eventually(() => daveGot('carol').includes('From the second tab'), 10_000, 'dave gets the second tab’s message');
    await dave.sendText('carol', 'Reply to the second tab');
    await messages(secondTab).getByText('Reply to the second tab').waitFor();

    // And back to the first tab, which reads what the second one received.
    await firstTab.getByRole('button', { name: 'Use here' }).click();
    await chatsHeading(firstTab).waitFor({ timeout: 10_000 });
    await inAnotherTab(secondTab).waitFor({ timeout: 5000 });
    expect(await secondTab.getByText('Reply to the second tab').count()).toBe(0);
    await firstTab.getByRole('link', { name: /^dave/ }).click();
    await messages(firstTab).getByText('Reply to the second tab').waitFor();
    await send(firstTab, 'From the first tab again');
    await eventually(() => daveGot('carol').includes('From the first tab again'), 10_000, 'dave gets the first tab’s message');
    await dave.sendText('carol', 'Reply to the first tab');
    await messages(firstTab).getByText('Reply to the first tab').waitFor();

    // A duplicate (a resend by the tab that took over) would have arrived by now.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(daveGot('carol')).toEqual(['Before the move', 'From the second tab', 'From the first tab again']);
  });

  it('[VERIFY-1] both sides show the same 12 groups of 5 digits; the other phone’s code verifies, other codes are refused', async () => {
    let page = await openPhone(null);
    await page.getByRole('button', { name: 'Use this device as your phone' }).click();
    await page.getByRole('textbox', { name: 'Username' }).fill('alice');
    await page.getByRole('button', { name: 'Create account' }).click();
    await chatsHeading(page).waitFor();
    await startChat(page, 'carol');
    await startChat(firstTab, 'alice');

    let phoneDialog = await openSafetyNumber(page, 'carol');
    const computerDialog = await openSafetyNumber(firstTab, 'alice');
    const groups = await groupsIn(phoneDialog);
    expect(groups).toHaveLength(12);
    for (const group of groups) expect(group).toMatch(/^\d{5}$/);
    expect(await groupsIn(computerDialog)).toEqual(groups);
    await phoneDialog.getByText('Not verified', { exact: true }).waitFor();
    await computerDialog.getByRole('img', { name: 'Safety number QR code' }).waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(await accessibilityViolations(firstTab)).toEqual([]);

    // No camera in this browser: the picture fallback. A safety number of another pair of
    // accounts (carol and dave) does not match; a QR code of something else is no safety number.
    const otherPair = join(work, 'carol-dave.png');
    await QRCode.toFile(otherPair, (await carol.safetyNumber('dave')).qrText, { width: 400, margin: 4 });
    const menu = join(work, 'menu.png');
    await QRCode.toFile(menu, 'https://example.org/menu', { width: 400, margin: 4 });
    await phoneDialog.getByRole('button', { name: 'Scan their code' }).click();
    await phoneDialog.getByRole('button', { name: 'Try the camera again' }).waitFor();
    await scanImage(page, phoneDialog, otherPair);
    const refusal = phoneDialog.getByRole('alert').filter({ hasText: 'The codes do not match' });
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('this is not carol’s phone');
    await phoneDialog.getByText('Not verified', { exact: true }).waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    await phoneDialog.getByRole('button', { name: 'Scan their code' }).click();
    await scanImage(page, phoneDialog, menu);
    await phoneDialog.getByRole('alert').filter({ hasText: 'This QR code is not a Pairwise safety number' }).waitFor();
    await page.keyboard.press('Escape');
    await phoneDialog.waitFor({ state: 'detached' });

    // carol's code, filmed for the phone's camera.
    const code = join(work, 'carol-safety.png');
    await computerDialog.getByRole('img', { name: 'Safety number QR code' }).screenshot({ path: code });
    page = await openPhone(filmForFakeCamera(code), '/chats/carol');
    phoneDialog = await openSafetyNumber(page, 'carol');
    await phoneDialog.getByRole('button', { name: 'Scan their code' }).click();
    await phoneDialog.getByText('The codes match. carol is now verified.').waitFor({ timeout: 15_000 });
    await phoneDialog.getByText('Verified', { exact: true }).waitFor();
    await phoneDialog.getByRole('button', { name: 'Clear verification' }).waitFor();
    await phoneDialog.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('heading', { name: 'carol', exact: true }).waitFor();
    // A decision is the person's own: carol has not verified alice.
    await computerDialog.getByText('Not verified', { exact: true }).waitFor();
    await computerDialog.getByRole('button', { name: 'Close' }).click();
    // Two browser starts for the phone (the camera file is fixed at launch) and an account made.
  }, 120_000);

  it("[VERIFY-3] a verified contact’s new key shows “dave's safety number changed”, and sends wait until “Send anyway”", async () => {
    const page = phone!.page;
    await page.getByRole('link', { name: 'Back to chats' }).click();
    await startChat(page, 'dave');
    await send(page, 'Hello dave');
    await eventually(() => daveGot('alice').includes('Hello dave'), 10_000, 'dave gets alice’s message');
    const dialog = await openSafetyNumber(page, 'dave');
    await dialog.getByRole('button', { name: 'Mark as verified' }).click();
    await dialog.getByText('Verified', { exact: true }).waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await page.getByText('Verified', { exact: true }).waitFor();

    dave = await replaceAccountKey(server, dave, daveStore);
    listen(dave);
    const log = messages(page);
    await log.getByText("dave's safety number changed", { exact: true }).waitFor({ timeout: 15_000 });
    const held = page.getByRole('region', { name: 'Messages waiting' });
    await held.getByText("dave's safety number changed. Messages you send wait until you verify it again or choose Send anyway.").waitFor();

    await send(page, 'Sent while held');
    const bubble = log.getByRole('listitem').filter({ hasText: 'Sent while held' });
    await bubble.getByRole('img', { name: 'Waiting' }).waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    // The notice's own button opens the dialog, which no longer calls dave verified.
    await log.getByRole('button', { name: "Verify dave's safety number" }).click();
    await page.getByRole('dialog', { name: 'Safety number with dave' }).getByText('Not verified', { exact: true }).waitFor();
    await page.keyboard.press('Escape');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(daveGot('alice')).toEqual(['Hello dave']);

    await held.getByRole('button', { name: 'Send anyway' }).click();
    await bubble.getByRole('img', { name: /^(Sent|Delivered|Read)$/ }).waitFor({ timeout: 15_000 });
    await held.waitFor({ state: 'detached' });
    await eventually(() => daveGot('alice').includes('Sent while held'), 10_000, 'dave gets the held message');
    expect(daveGot('alice')).toEqual(['Hello dave', 'Sent while held']);
  });

  it('[SEND-1] a message the server refuses shows “Not sent” with “Retry”, also after a reload, and Retry sends it once', async () => {
    const page = phone!.page;
    const erin = await createPrimary(server, 'erin');
    const atErin: string[] = [];
    erin.on('message', (message) => !message.outgoing && atErin.push(message.text));
    try {
      await page.getByRole('link', { name: 'Back to chats' }).click();
      await startChat(page, 'erin');
      await send(page, 'Hello erin');
      await eventually(() => atErin.includes('Hello erin'), 10_000, 'erin gets the first message');

      // The account is gone for a while: the server refuses what alice sends it.
      const restore = hideAccount(server, 'erin');
      await send(page, 'While erin is gone');
      const log = messages(page);
      const bubble = log.getByRole('listitem').filter({ hasText: 'While erin is gone' });
      await bubble.getByText(/^Not sent: /).waitFor({ timeout: 15_000 });
      expect(await bubble.getByRole('img', { name: /^(Sent|Delivered|Read)$/ }).count()).toBe(0);
      // Kept as it was across a reload, never sent behind the person's back.
      await page.reload();
      await page.getByRole('heading', { name: 'erin', exact: true }).waitFor();
      const again = messages(page).getByRole('listitem').filter({ hasText: 'While erin is gone' });
      await again.getByRole('button', { name: 'Retry' }).waitFor();
      expect(await accessibilityViolations(page)).toEqual([]);

      restore();
      await again.getByRole('button', { name: 'Retry' }).click();
      await again.getByRole('img', { name: /^(Sent|Delivered|Read)$/ }).waitFor({ timeout: 15_000 });
      await eventually(() => atErin.includes('While erin is gone'), 10_000, 'erin gets the retried message');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(atErin).toEqual(['Hello erin', 'While erin is gone']);
      // Back where the next test expects the phone: dave's conversation.
      await page.goto(`${server.origin}/chats/dave`);
      await page.getByRole('heading', { name: 'dave', exact: true }).waitFor();
    } finally {
      await erin.close();
    }
  });

  it('[DEVICE-1] the phone moves between tabs the same way; a closed tab lets the device go', async () => {
    const first = phone!.page;
    const second = watch(await phone!.context.newPage(), 'alice’s phone, second tab', problems);
    await second.goto(`${server.origin}/chats/dave`);
    await inAnotherTab(second).waitFor({ timeout: 10_000 });
    await second.getByRole('button', { name: 'Use here' }).click();
    await messages(second).getByText('Sent while held').waitFor({ timeout: 10_000 });
    await inAnotherTab(first).waitFor({ timeout: 5000 });
    expect(await first.getByText('Sent while held').count()).toBe(0);
    await dave.sendText('alice', 'Got it');
    await messages(second).getByText('Got it').waitFor();

    // Nobody holds the device once its tab is closed: "Use here" gets it at once.
    await second.close();
    await first.getByRole('button', { name: 'Use here' }).click();
    await messages(first).getByText('Got it').waitFor({ timeout: 10_000 });
  });

  it('[DEVICE-1] [LOCK-5] with a passcode set, the tab that takes the device over opens locked, as at any start', async () => {
    await firstTab.getByRole('button', { name: 'Menu' }).click();
    await firstTab.getByRole('menuitem', { name: 'App lock…' }).click();
    const dialog = firstTab.getByRole('dialog', { name: 'App lock' });
    await dialog.getByLabel('New passcode').fill(PASSCODE);
    await dialog.getByLabel('Repeat passcode').fill(PASSCODE);
    await dialog.getByText('Strength: Very strong.').waitFor({ timeout: 10_000 });
    await dialog.getByRole('button', { name: 'Turn on app lock' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 10_000 });

    const passcode = (page: Page) => page.getByRole('textbox', { name: 'Passcode', exact: true });
    await secondTab.getByRole('button', { name: 'Use here' }).click();
    await passcode(secondTab).waitFor({ timeout: 10_000 });
    await inAnotherTab(firstTab).waitFor({ timeout: 5000 });
    expect(await firstTab.content()).not.toContain('Reply to the first tab');
    expect(await secondTab.content()).not.toContain('Reply to the first tab');
    await passcode(secondTab).fill(PASSCODE);
    await secondTab.getByRole('button', { name: 'Unlock' }).click();
    await chatsHeading(secondTab).waitFor({ timeout: 10_000 });
    await secondTab.getByRole('link', { name: /^dave/ }).click();
    await messages(secondTab).getByText('Reply to the first tab').waitFor();
  });

  it('no page logged an error or had a request fail', () => {
    expect(problems).toEqual([]);
  });
});
