// A server limit, as a person meets it in the web app (SPEC LIMIT-3, UI-10), in Debian's Chromium
// against the real server process: the server takes at most two undelivered messages from one
// account for a device; carol's computer writes to frank, who is offline, and the third message
// says "Not sent: frank's phone has too many undelivered messages" with Retry, which sends it once
// frank has collected what waited for him.
// Run with `npm run build && node_modules/.bin/vitest run --project e2e apps/web/e2e/limits.test.ts`.
import { MemoryStore } from '@pairwise/client/memory-store';
import type { PairwiseClient } from '@pairwise/client/pairwise-client';
import { removeDataDir, type ServerProcess } from '@pairwise/testing/server-process';
import { createPrimary, eventually, reopen } from '@pairwise/testing/test-clients';
import type { Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessibilityViolations, launchCompanion, linkWithNodePrimary, skipReason, startE2eServer, type LaunchedCompanion } from './support/harness.js';

describe.skipIf(skipReason('limits') !== null)('server limits in Chromium', () => {
  const problems: string[] = [];
  let server: ServerProcess;
  let carol: PairwiseClient;
  let computer: LaunchedCompanion;
  const frankStore = new MemoryStore();

  beforeAll(async () => {
    server = await startE2eServer({ INBOX_MAX_MESSAGES_PER_SENDER: '2' });
    carol = await createPrimary(server, 'carol');
    await (await createPrimary(server, 'frank', frankStore)).close();
    computer = await launchCompanion({ server, problems });
    await linkWithNodePrimary(carol, computer.page);
  });

  afterAll(async () => {
    await computer?.close();
    await carol?.close();
    await server?.stop();
    if (server) removeDataDir(server);
  });

  const messages = (page: Page) => page.getByRole('log', { name: 'Messages' });

  async function send(page: Page, text: string): Promise<void> {
    await page.getByRole('textbox', { name: 'Message' }).fill(text);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await messages(page).getByText(text).waitFor();
  }

  it('[LIMIT-3] a full inbox shows "Not sent" naming the contact, and Retry sends it once the contact has read', async () => {
    const page = computer.page;
    await page.getByRole('button', { name: 'New chat' }).click();
    await page.getByRole('textbox', { name: 'Contact’s username' }).fill('frank');
    await page.getByRole('button', { name: 'Start chat' }).click();
    await page.getByRole('heading', { name: 'frank', exact: true }).waitFor();
    await send(page, 'First');
    await send(page, 'Second');
    for (const text of ['First', 'Second']) {
      await messages(page).getByRole('listitem').filter({ hasText: text }).getByRole('img', { name: 'Sent' }).waitFor({ timeout: 15_000 });
    }
    await send(page, 'Third');
    const third = messages(page).getByRole('listitem').filter({ hasText: 'Third' });
    await third.getByText("Not sent: frank's phone has too many undelivered messages; try again once they have been delivered.").waitFor({ timeout: 15_000 });
    expect(await accessibilityViolations(page)).toEqual([]);

    const frank = await reopen(server, frankStore);
    const got: string[] = [];
    frank.on('message', (message) => !message.outgoing && got.push(message.text));
    await eventually(() => got.length === 2, 15_000, 'frank collects what waited');
    await third.getByRole('button', { name: 'Retry' }).click();
    await third.getByRole('img', { name: /^(Sent|Delivered|Read)$/ }).waitFor({ timeout: 15_000 });
    await eventually(() => got.includes('Third'), 10_000, 'frank gets the retried message');
    expect(got).toEqual(['First', 'Second', 'Third']);
    await frank.close();
    expect(problems).toEqual([]);
  });
});
