#!/usr/bin/env node
// Takes screenshots of the web app's main screens for apps/web/README.md: the link screen, the
// phone's link confirmation, a conversation (computer and phone) and the linked devices list.
// Drives the real server and Debian's Chromium the way the e2e suite does, fake camera included.
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

const out = resolve(process.argv[2] ?? 'apps/web/screenshots');
mkdirSync(out, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'pairwise-shots-'));
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
  await desk.screenshot({ path: join(out, 'link-screen.png') });
  await qr.screenshot({ path: join(work, 'qr.png') });
  execFileSync(
    'ffmpeg',
    ['-y', '-loop', '1', '-i', join(work, 'qr.png'), '-vf', 'scale=400:400,pad=640:480:120:40:white,format=yuv420p', '-r', '10', '-t', '2', join(work, 'qr.y4m')],
    { stdio: 'ignore' },
  );

  const phoneBrowser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${join(work, 'qr.y4m')}`],
  });
  launched.push(phoneBrowser);
  const phone = await phoneBrowser.newPage({ viewport: { width: 390, height: 780 }, deviceScaleFactor: 2 });
  await phone.goto(server.origin);
  await phone.getByRole('button', { name: 'Use this device as your phone' }).click();
  await phone.getByRole('textbox', { name: 'Username' }).fill('alice');
  await phone.screenshot({ path: join(out, 'phone-create-account.png') });
  await phone.getByRole('button', { name: 'Create account' }).click();
  await phone.getByRole('link', { name: 'Linked devices' }).click();
  await phone.getByRole('button', { name: 'Link a device' }).click();
  await phone.getByRole('button', { name: 'Confirm link' }).waitFor({ timeout: 15_000 });
  await phone.screenshot({ path: join(out, 'phone-confirm-link.png') });
  await phone.getByRole('button', { name: 'Confirm link' }).click();
  await desk.getByRole('heading', { name: 'Chats', exact: true }).waitFor();

  await phone.getByRole('list', { name: 'Linked devices' }).getByText('Active now').waitFor({ timeout: 15_000 });
  await phone.screenshot({ path: join(out, 'phone-linked-devices.png') });

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
  await desk.screenshot({ path: join(out, 'computer-conversation.png') });
  await phone.screenshot({ path: join(out, 'phone-conversation.png') });

  await desk.getByRole('button', { name: 'Menu' }).click();
  await desk.getByRole('menuitem', { name: 'Log out' }).click();
  await desk.getByRole('dialog').waitFor();
  await desk.screenshot({ path: join(out, 'computer-log-out.png') });
  await bob.close();
  console.log(`Screenshots written to ${out}`);
} finally {
  for (const browser of launched) await browser.close();
  await server.stop();
  removeDataDir(server);
  rmSync(work, { recursive: true, force: true });
}
