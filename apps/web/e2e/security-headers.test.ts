// The web app under its real Content-Security-Policy (issue 5, "Phishing and update defences"),
// in Debian's Chromium against the real server. Unlike the other suites, the browser here does NOT
// bypass the CSP: every `securitypolicyviolation` the pages report is collected, with console
// errors, and there must be none. Then:
// - a message full of markup arrives and is shown as text, runs nothing and creates no element;
// - the server is restarted with another build of the app: the open app offers "Reload to update";
// - the server is restarted refusing this app's protocol version: the app says "Update required"
//   and keeps everything it stored.
// Run it with `npm run test:e2e` (builds the app first).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PairwiseClient } from '@pairwise/client/pairwise-client';
import { PROTOCOL_VERSION } from '@pairwise/protocol/version';
import { removeDataDir, type ServerProcess } from '@pairwise/testing/server-process';
import { createPrimary } from '@pairwise/testing/test-clients';
import { chromium, type Browser, type Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../../scripts/chromium.mjs';
import { browserStorage, indexedDbDump, linkWithNodePrimary, skipReason, startE2eServer, watch, WEB_ROOT } from './support/harness.js';

const skip = skipReason('security headers') !== null;

/** A message that would run script or make elements if the app ever treated text as HTML. */
const HOSTILE_TEXT = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>bold</b>';

/** Console noise a server restart causes by design: the socket fails until the server is back. */
const RESTART_NOISE = /WebSocket connection to '.*' failed/;

describe.skipIf(skip)('web app under its Content-Security-Policy', () => {
  const problems: string[] = [];
  const violations: string[] = [];
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  let alice: PairwiseClient;
  let bob: PairwiseClient;
  let work: string;
  let companionId: string | null = null;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'pairwise-csp-'));
    server = await startE2eServer();
    [alice, bob] = await Promise.all([createPrimary(server, 'alice_csp'), createPrimary(server, 'bob_csp')]);
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
    // No bypassCSP: the page runs under the policy the server sends.
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.exposeBinding('reportCspViolation', (_source, text: string) => violations.push(text));
    // Runs in every document before the app; it reports through the binding, so that violations
    // of a page that reloaded are not lost with it.
    await context.addInitScript(`document.addEventListener('securitypolicyviolation', (event) =>
      reportCspViolation(event.effectiveDirective + ' blocked ' + event.blockedURI + ' at ' + event.sourceFile + ':' + event.lineNumber + ' ' + event.sample))`);
    page = watch(await context.newPage(), 'companion', problems);
  });

  afterAll(async () => {
    await browser?.close();
    await alice?.close();
    await bob?.close();
    await server?.stop();
    if (server) removeDataDir(server);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Where the socket errors of the latest server restart start in `problems`. */
  let restartedAt: number | null = null;

  /** Stops the server and starts it again (same port and data) with `env` changed. */
  async function restartServer(env: Record<string, string>): Promise<void> {
    restartedAt = problems.length;
    await server.stop();
    server = await server.restart(env);
  }

  /** Once the app is back on its feet: drops the socket errors the restart caused, keeps the rest. */
  function forgetRestartNoise(): void {
    if (restartedAt === null) return;
    const kept = problems.slice(restartedAt).filter((problem) => !RESTART_NOISE.test(problem));
    problems.splice(restartedAt, problems.length - restartedAt, ...kept);
    restartedAt = null;
  }

  it('[HEADERS-4] [HEADERS-1] the link screen loads under the enforced policy with no violation and no console error, and WebAssembly compiles', async () => {
    const response = await page.goto(server.origin);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self' 'wasm-unsafe-eval';");
    expect(response?.headers()['content-security-policy']).toContain("require-trusted-types-for 'script'");
    await page.getByRole('img', { name: 'Link QR code' }).waitFor();
    // [HEADERS-1] WebAssembly compiles under the policy: the app lock derives its key with Argon2id
    // in WebAssembly (LOCK-3). Without 'wasm-unsafe-eval' this rejects and reports a violation.
    // (A string: the tests' Node types have no WebAssembly. The bytes are an empty module's header.)
    const compiles = 'WebAssembly.compile(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00])).then((module) => module instanceof WebAssembly.Module)';
    expect(await page.evaluate(compiles)).toBe(true);
    // The app's own script really ran under integrity checks: the page is the built one.
    expect(await page.locator('script[integrity^="sha384-"]').count()).toBeGreaterThan(0);
    expect(violations).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('[HEADERS-1] in the browser, every response of every route carries the security headers', async () => {
    // A context of its own, so that the linked page of the other tests is left alone.
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const visitor = watch(await context.newPage(), 'visitor', problems);
      const seen: { url: string; headers: Record<string, string> }[] = [];
      visitor.on('response', (response) => {
        if (response.url().startsWith(server.origin)) seen.push({ url: response.url(), headers: response.headers() });
      });
      for (const path of ['/', '/chats', '/devices/link', '/settings']) {
        await visitor.goto(`${server.origin}${path}`);
        await visitor.getByRole('img', { name: 'Link QR code' }).waitFor();
      }
      await visitor.evaluate(`fetch('/api/version').then((response) => response.json())`);
      // Pages, scripts, styles, the icon and an API call.
      expect(seen.some((response) => response.url.includes('/assets/'))).toBe(true);
      expect(seen.some((response) => response.url.includes('/api/'))).toBe(true);
      const missing = seen.flatMap(({ url, headers }) =>
        Object.entries({
          'content-security-policy': "frame-ancestors 'none'",
          'cross-origin-opener-policy': 'same-origin',
          'cross-origin-resource-policy': 'same-origin',
          'referrer-policy': 'no-referrer',
          'x-content-type-options': 'nosniff',
        })
          .filter(([name, value]) => !(headers[name] ?? '').includes(value))
          .map(([name]) => `${url}: ${name}`),
      );
      expect(missing).toEqual([]);
      expect(violations).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('[HEADERS-4] markup in a received message is shown as text: no element, no script, no violation', async () => {
    await linkWithNodePrimary(alice, page);
    // Read now, while the server is steady: later tests restart it under this client's feet.
    companionId = (await alice.devices()).find((device) => device.kind === 'companion')?.deviceId ?? null;
    await bob.sendText('alice_csp', HOSTILE_TEXT);
    await page.getByRole('link', { name: /^bob_csp/ }).click();
    const log = page.getByRole('log', { name: 'Messages' });
    await log.getByText(HOSTILE_TEXT, { exact: true }).waitFor({ timeout: 10_000 });
    // Give a would-be onerror handler time to fire.
    await page.waitForTimeout(500);
    expect(await log.locator('img, b, script').count()).toBe(0);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.getByText('bold', { exact: true }).count()).toBe(0);
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
    expect(violations).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('[VERSION-4] after the server comes back with another build, the open app offers "Reload to update"; reloading loads it', async () => {
    // Another build: the same files under a different build id, in the manifest and in the page.
    const current = (JSON.parse(readFileSync(join(WEB_ROOT, 'asset-manifest.json'), 'utf8')) as { build: string }).build;
    const next = current === '0123456789abcdef' ? 'fedcba9876543210' : '0123456789abcdef';
    const otherRoot = join(work, 'next-build');
    cpSync(WEB_ROOT, otherRoot, { recursive: true });
    for (const file of ['asset-manifest.json', 'index.html']) {
      const path = join(otherRoot, file);
      writeFileSync(path, readFileSync(path, 'utf8').replaceAll(current, next));
    }
    const banner = page.getByRole('status').filter({ hasText: 'A new version of Pairwise is available' });
    expect(await banner.count()).toBe(0);

    await restartServer({ WEB_ROOT: otherRoot });
    const reload = page.getByRole('button', { name: 'Reload to update' });
    await reload.waitFor({ timeout: 20_000 });
    expect(await banner.count()).toBe(1);
    // Non-blocking: the conversation is still there and usable.
    await page.getByRole('log', { name: 'Messages' }).getByText(HOSTILE_TEXT, { exact: true }).waitFor();
    forgetRestartNoise();

    await reload.click();
    await page.getByRole('heading', { name: 'Chats', exact: true }).waitFor({ timeout: 10_000 });
    expect(await page.locator('meta[name="pairwise-build"]').getAttribute('content')).toBe(next);
    await page.waitForTimeout(500);
    expect(await reload.count()).toBe(0);
    expect(violations).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('[VERSION-3] a server that no longer accepts this app shows "Update required" and the browser keeps its data', async () => {
    expect(companionId).not.toBeNull();
    const companion = { deviceId: companionId! };
    await restartServer({ WEB_ROOT, MIN_PROTOCOL_VERSION: String(PROTOCOL_VERSION + 1), PAIRWISE_TEST_VERSION_AHEAD: '1' });

    const screen = page.getByRole('alert').filter({ has: page.getByRole('heading', { name: 'Update required' }) });
    await screen.waitFor({ timeout: 20_000 });
    forgetRestartNoise();
    expect(await screen.textContent()).toContain('older than the server');
    expect((await browserStorage(page)).databases.length).toBeGreaterThan(0);
    expect(await indexedDbDump(page)).toContain(companion.deviceId);

    // "Reload" loads the app again; the server still refuses it, so the screen comes back at start.
    await screen.getByRole('button', { name: 'Reload' }).click({ timeout: 10_000 });
    await page.getByRole('heading', { name: 'Update required' }).waitFor({ timeout: 20_000 });
    expect(await indexedDbDump(page)).toContain(companion.deviceId);

    // Nothing was lost: once the server accepts this version again, a reload opens the chats.
    await restartServer({ WEB_ROOT, MIN_PROTOCOL_VERSION: '', PAIRWISE_TEST_VERSION_AHEAD: '' });
    await page.reload();
    await page.getByRole('link', { name: /^bob_csp/ }).click({ timeout: 20_000 });
    await page.getByRole('log', { name: 'Messages' }).getByText(HOSTILE_TEXT, { exact: true }).waitFor({ timeout: 10_000 });
    forgetRestartNoise();
    expect(violations).toEqual([]);
    expect(problems).toEqual([]);
  }, 120_000);
});
