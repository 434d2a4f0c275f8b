#!/usr/bin/env node
// Takes screenshots of the web app's main screens for apps/web/README.md: the link screen, the
// phone's link confirmation, a conversation (computer and phone) and the linked devices list; then
// the session privacy screens: the phone's Settings with two-step verification on, a link confirmed
// with the two-step PIN, "New device linked" on the phone, the security log, and the computer's
// lock screen. Drives the real server and Debian's Chromium the way the e2e suite does, fake camera
// included.
//
//   npm run build && node scripts/web-screenshots.mjs [output folder, default apps/web/screenshots]
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright';
import { removeDataDir, startServerProcess } from '@pairwise/testing/server-process';
import { createPrimary } from '@pairwise/testing/test-clients';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.mjs';

/** Made-up secrets for the pictures only. */
const PIN = '482916';
const WRONG_PIN = '555123';
const PASSCODE = 'lantern-42';

/** A y4m film of the QR code in `png`, for Chromium's fake camera, written to `y4m`. */
function filmQr(png, y4m) {
  execFileSync(
    'ffmpeg',
    ['-y', '-loop', '1', '-i', png, '-vf', 'scale=400:400,pad=640:480:120:40:white,format=yuv420p', '-r', '10', '-t', '2', y4m],
    { stdio: 'ignore' },
  );
}

const out = resolve(process.argv[2] ?? 'apps/web/screenshots');
mkdirSync(out, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'pairwise-shots-'));
/**
 * Screenshots `page` into the output folder as `name`.png, reduced to 256 colours without dithering
 * (ffmpeg): the flat colours and text of the app look the same at less than half the size.
 */
async function shot(page, name) {
  const raw = join(work, `${name}.raw.png`);
  await page.screenshot({ path: raw });
  execFileSync(
    'ffmpeg',
    ['-y', '-i', raw, '-vf', 'split[a][b];[a]palettegen=max_colors=256:stats_mode=full[p];[b][p]paletteuse=dither=none', join(out, `${name}.png`)],
    { stdio: 'ignore' },
  );
}

const server = await startServerProcess({ env: { WEB_ROOT: resolve('apps/web/dist') } });
const launched = [];

try {
  const bob = await createPrimary(server, 'bob');

  const computer = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  launched.push(computer);
  const desk = await computer.newPage({ viewport: { width: 1280, height: 760 } });
  await desk.goto(server.origin);
  const qr = desk.getByRole('img', { name: 'Link QR code' });
  await qr.waitFor();
  await shot(desk, 'link-screen');
  await qr.screenshot({ path: join(work, 'qr.png') });
  filmQr(join(work, 'qr.png'), join(work, 'qr.y4m'));

  const phoneBrowser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${join(work, 'qr.y4m')}`],
  });
  launched.push(phoneBrowser);
  const phone = await phoneBrowser.newPage({ viewport: { width: 390, height: 780 }, deviceScaleFactor: 2 });
  await phone.goto(server.origin);
  await phone.getByRole('button', { name: 'Use this device as your phone' }).click();
  await phone.getByRole('textbox', { name: 'Username' }).fill('alice');
  await shot(phone, 'phone-create-account');
  await phone.getByRole('button', { name: 'Create account' }).click();
  await phone.getByRole('link', { name: 'Linked devices' }).click();
  await phone.getByRole('button', { name: 'Link a device' }).click();
  await phone.getByRole('button', { name: 'Confirm link' }).waitFor({ timeout: 15_000 });
  await shot(phone, 'phone-confirm-link');
  await phone.getByRole('button', { name: 'Confirm link' }).click();
  await desk.getByRole('heading', { name: 'Chats', exact: true }).waitFor();
  // The phone is told of the link it just made too; dismissed so the next pictures show the screens.
  await phone.getByRole('alert', { name: 'New device linked' }).getByRole('button', { name: 'Dismiss' }).click();

  await phone.getByRole('list', { name: 'Linked devices' }).getByText('Active now').waitFor({ timeout: 15_000 });
  await shot(phone, 'phone-linked-devices');

  await phone.getByRole('link', { name: 'Chats' }).click();
  await phone.getByRole('button', { name: 'New chat' }).click();
  await phone.getByRole('textbox', { name: 'Contact’s username' }).fill('bob');
  await phone.getByRole('button', { name: 'Start chat' }).click();
  for (const text of ['Hi Bob! Are we still on for Saturday?', 'I can bring the tent.']) {
    await phone.getByRole('textbox', { name: 'Message' }).fill(text);
    await phone.getByRole('button', { name: 'Send' }).click();
  }
  await phone.getByRole('log', { name: 'Messages' }).getByRole('img', { name: 'Delivered' }).nth(1).waitFor();
  await bob.sendText('alice', 'Yes! Leaving at 9. Bring the big one.');
  await phone.getByRole('log', { name: 'Messages' }).getByText('Leaving at 9').waitFor();
  await desk.getByRole('link', { name: /^bob/ }).click();
  await desk.getByRole('log', { name: 'Messages' }).getByText('Leaving at 9').waitFor();
  await desk.getByRole('textbox', { name: 'Message' }).fill('Typed on the computer, shown on the phone too.');
  await desk.getByRole('button', { name: 'Send' }).click();
  await phone.getByRole('log', { name: 'Messages' }).getByText('Typed on the computer').waitFor();
  await desk.getByRole('log', { name: 'Messages' }).getByRole('img', { name: 'Delivered' }).last().waitFor();
  await shot(desk, 'computer-conversation');
  await shot(phone, 'phone-conversation');

  await desk.getByRole('button', { name: 'Menu' }).click();
  await desk.getByRole('menuitem', { name: 'Log out' }).click();
  await desk.getByRole('dialog').waitFor();
  await shot(desk, 'computer-log-out');
  await desk.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

  // Session privacy. The phone turns on the two-step PIN and picks an automatic log out.
  const phoneNav = (section) => phone.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: section, exact: true });
  await phoneNav('Settings').click();
  const twoStep = phone.getByRole('region', { name: 'Two-step verification' });
  await twoStep.getByRole('textbox', { name: 'New PIN', exact: true }).fill(PIN);
  await twoStep.getByRole('textbox', { name: 'Confirm PIN', exact: true }).fill(PIN);
  await twoStep.getByRole('button', { name: 'Turn on' }).click();
  await twoStep.getByText('Two-step verification is on.').waitFor();
  await phone.getByRole('combobox', { name: 'Log out devices inactive for' }).selectOption({ label: '7 days' });
  await phone.getByText('Saved. Computers not used for 7 days are logged out.').waitFor();
  // Scrolled so that the end of Two-step verification (its "On" line) and Automatic log out show.
  await phone.getByRole('region', { name: 'Automatic log out' }).evaluate((section) => {
    section.scrollIntoView({ block: 'end' });
    section.closest('.app-main')?.scrollBy(0, -30);
  });
  await shot(phone, 'phone-settings-two-step');

  // The computer sets an app lock passcode and locks.
  await desk.getByRole('button', { name: 'Menu' }).click();
  await desk.getByRole('menuitem', { name: 'App lock…' }).click();
  const lockDialog = desk.getByRole('dialog', { name: 'App lock' });
  await lockDialog.getByLabel('New passcode').fill(PASSCODE);
  await lockDialog.getByLabel('Repeat passcode').fill(PASSCODE);
  await lockDialog.getByRole('button', { name: 'Turn on app lock' }).click();
  await lockDialog.waitFor({ state: 'detached', timeout: 10_000 });
  await desk.getByRole('button', { name: 'Lock now' }).click();
  await desk.getByRole('textbox', { name: 'Passcode', exact: true }).waitFor();
  await shot(desk, 'computer-lock-screen');

  // A second computer links; the phone's fake camera now films its code (Chromium opens the file
  // again each time the camera starts), and the confirmation asks for the PIN.
  const second = await computer.newPage({ viewport: { width: 1280, height: 760 } });
  await second.goto(server.origin);
  const secondQr = second.getByRole('img', { name: 'Link QR code' });
  await secondQr.waitFor();
  await secondQr.screenshot({ path: join(work, 'qr-second.png') });
  filmQr(join(work, 'qr-second.png'), join(work, 'qr.y4m'));
  await phoneNav('Linked devices').click();
  await phone.getByRole('button', { name: 'Link a device' }).click();
  const pinField = phone.getByRole('textbox', { name: 'Two-step PIN' });
  await pinField.waitFor({ timeout: 15_000 });
  await pinField.fill(PIN);
  await shot(phone, 'phone-confirm-link-pin');
  // A wrong PIN first, for the security log.
  await pinField.fill(WRONG_PIN);
  await phone.getByRole('button', { name: 'Confirm link' }).click();
  await phone.getByRole('alert').getByText('Wrong PIN. 9 tries left.').waitFor();
  await pinField.fill(PIN);
  await phone.getByRole('button', { name: 'Confirm link' }).click();
  await second.getByRole('heading', { name: 'Chats', exact: true }).waitFor({ timeout: 10_000 });
  const newDevice = phone.getByRole('alert', { name: 'New device linked' });
  await newDevice.waitFor({ timeout: 10_000 });
  await shot(phone, 'phone-new-device-alert');
  await newDevice.getByRole('button', { name: 'Dismiss' }).click();

  await phoneNav('Settings').click();
  await phone.getByRole('link', { name: 'Open the security log' }).click();
  await phone.getByRole('list', { name: 'Security events, newest first' }).getByText('Wrong PIN entered').waitFor();
  await shot(phone, 'phone-security-log');
  await bob.close();
  console.log(`Screenshots written to ${out}`);
} finally {
  for (const browser of launched) await browser.close();
  await server.stop();
  removeDataDir(server);
  rmSync(work, { recursive: true, force: true });
}
