/**
 * Shared pieces of the web app's end-to-end suites (apps/web/e2e/*.test.ts): when to skip, a real
 * server process serving the built app, companions in Debian's Chromium, linking one from a Node
 * primary by reading its QR code off a screenshot, and looking into what the browser stores.
 *
 * Every page opened through here should be `watch`ed: a console error, an uncaught exception or a
 * failed request lands in the suite's `problems` list, which its last test expects to be empty.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PairwiseClient } from '@pairwise/client/pairwise-client';
import { startServerProcess, type ServerProcess } from '@pairwise/testing/server-process';
import jsQR from 'jsqr';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright';
import { PNG } from 'pngjs';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../../../scripts/chromium.mjs';

/** The built web app (`npm run build` writes it); the server serves it with WEB_ROOT. */
export const WEB_ROOT = resolve(fileURLToPath(import.meta.url), '../../../dist');

const AXE_SCRIPT = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

function hasFfmpeg(): boolean {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** What a suite needs besides Chromium and the built app. */
export interface SkipOptions {
  /** The suite films QR codes for a fake camera. */
  readonly ffmpeg?: boolean;
}

/**
 * Why `suite` cannot run here (Chromium, ffmpeg or the built app missing), printed as a visible
 * warning; null when it can run. Under CI=true nothing may be skipped: this returns null even when
 * something is missing, so the suite runs and fails loudly instead.
 *
 * Use: `describe.skipIf(skipReason('app lock') !== null)(...)`.
 */
export function skipReason(suite: string, options: SkipOptions = {}): string | null {
  const missing = [
    ...(existsSync(CHROMIUM_PATH) ? [] : [`Chromium (${CHROMIUM_PATH})`]),
    ...(options.ffmpeg === true && !hasFfmpeg() ? ['ffmpeg'] : []),
    ...(existsSync(join(WEB_ROOT, 'index.html')) ? [] : ['the built app (npm run build)']),
  ];
  if (missing.length === 0) return null;
  const reason = `${missing.join(', ')} missing. Install with: apt-get install -y chromium ffmpeg; build with: npm run build`;
  if (process.env.CI === 'true') {
    console.error(`\n*** The ${suite} e2e suite is mandatory under CI=true, but ${reason} ***\n`);
    return null;
  }
  console.warn(`\n*** SKIPPING the ${suite} e2e suite: ${reason} ***\n`);
  return reason;
}

/**
 * Records in `problems` whatever `page` reports wrong: console errors, uncaught exceptions, failed
 * requests and HTTP answers of 400 or more, each prefixed with `who`. Returns the page.
 */
export function watch(page: Page, who: string, problems: string[]): Page {
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${who} console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`${who} page error: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`${who} request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${who} HTTP ${response.status()}: ${response.url()}`);
  });
  return page;
}

/**
 * The real server as a child process, serving the built app, with its test clock and hooks on
 * (`server.advanceClock`, `server.sweep`). `env` adds or overrides settings.
 */
export function startE2eServer(env: Record<string, string> = {}): Promise<ServerProcess> {
  return startServerProcess({ env: { WEB_ROOT, PAIRWISE_TEST_CLOCK: '1', ...env } });
}

/** How to open a companion browser. */
export interface LaunchCompanionOptions {
  /** The server whose app to open. */
  readonly server: Pick<ServerProcess, 'origin'>;
  /** Where failures are collected (see `watch`). */
  readonly problems: string[];
  /** A profile folder that outlives the browser (restarts keep IndexedDB); a throwaway one if absent. */
  readonly profile?: string;
  /** The path to open; "/" by default. */
  readonly path?: string;
  /** Installs Playwright's fake clock before the app loads (`page.clock.fastForward` then works). */
  readonly fakeClock?: boolean;
  /** Names the page in `problems`; "companion" by default. */
  readonly who?: string;
  /** Extra Chromium flags (e.g. a fake camera). */
  readonly args?: readonly string[];
  /** Viewport; 1280x800 (a computer) by default. */
  readonly viewport?: { readonly width: number; readonly height: number };
}

/** A companion's browser and its page. */
export interface LaunchedCompanion {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Closes the browser (a persistent profile stays on disk). */
  close(): Promise<void>;
}

/**
 * Starts a Chromium process for a companion and opens the app in it. With `profile`, the browser
 * keeps its storage in that folder, so a later launch on the same folder is a browser restart.
 */
export async function launchCompanion(options: LaunchCompanionOptions): Promise<LaunchedCompanion> {
  const viewport = options.viewport ?? { width: 1280, height: 800 };
  const args = [...CHROMIUM_ARGS, ...(options.args ?? [])];
  // axe-core is injected as a script tag; a strict CSP must not stop that check.
  const common = { viewport, bypassCSP: true };
  let context: BrowserContext;
  let browser: Browser | null = null;
  if (options.profile !== undefined) {
    context = await chromium.launchPersistentContext(options.profile, { executablePath: CHROMIUM_PATH, args, headless: true, ...common });
  } else {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args, headless: true });
    context = await browser.newContext(common);
  }
  const page = watch(context.pages()[0] ?? (await context.newPage()), options.who ?? 'companion', options.problems);
  if (options.fakeClock === true) await page.clock.install();
  await page.goto(`${options.server.origin}${options.path ?? '/'}`);
  return {
    context,
    page,
    async close() {
      await context.close();
      await browser?.close();
    },
  };
}

/**
 * The text of the link QR code the page shows (the img named "Link QR code"), read off a screenshot.
 * The page replaces the image whenever the code rotates or a new request starts, so an image can
 * leave the DOM between being found and being photographed: then the current one is read instead.
 */
export async function readQrText(page: Page): Promise<string> {
  const image = page.getByRole('img', { name: 'Link QR code' });
  const deadline = Date.now() + 15_000;
  for (;;) {
    await image.waitFor({ timeout: Math.max(1, deadline - Date.now()) });
    let png: PNG;
    try {
      png = PNG.sync.read(await image.screenshot({ timeout: Math.max(1, deadline - Date.now()) }));
    } catch (error) {
      const replaced = error instanceof Error && error.message.includes('not attached to the DOM');
      if (!replaced || Date.now() > deadline) throw error;
      continue;
    }
    const code = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.byteLength), png.width, png.height);
    if (code !== null) return code.data;
    if (Date.now() > deadline) throw new Error('no QR code could be read from the "Link QR code" screenshot');
  }
}

/** Options for `linkWithNodePrimary`. */
export interface LinkOptions {
  /**
   * The PIN the primary confirms the link with, once linking asks for one; passed to `approve`.
   * (Until then `approve` takes no argument and ignores it.)
   */
  readonly pin?: string;
  /** Wait until the companion shows its chats (default true). */
  readonly waitForChats?: boolean;
}

/**
 * Links the companion on `page` to a Node primary (a `createPrimary` client): the primary reads
 * the page's QR code, inspects the request and approves it. Returns the request's details as the
 * primary saw them.
 */
export async function linkWithNodePrimary(
  primary: PairwiseClient,
  page: Page,
  options: LinkOptions = {},
): Promise<Awaited<ReturnType<PairwiseClient['inspectLink']>>['details']> {
  const { details, approve } = await primary.inspectLink(await readQrText(page));
  // Room for the PIN of a later issue: an approve that takes none ignores the argument.
  const approveWithPin: (pin?: string) => Promise<void> = approve;
  await approveWithPin(options.pin);
  if (options.waitForChats !== false) await page.getByRole('heading', { name: 'Chats', exact: true }).waitFor({ timeout: 10_000 });
  return details;
}

/** The page's origin storage: IndexedDB database names, Cache Storage names, service workers. */
export async function browserStorage(page: Page): Promise<{ databases: string[]; caches: string[]; workers: number }> {
  return page.evaluate(`(async () => ({
    databases: (await indexedDB.databases()).map((database) => database.name),
    caches: await caches.keys(),
    workers: (await navigator.serviceWorker.getRegistrations()).length,
  }))()`);
}

/**
 * Every key and value of every object store of every IndexedDB database of the page's origin, as
 * one string. Bytes (ArrayBuffer, typed arrays, DataView) appear both as latin1 text (each byte one
 * character) and as UTF-8 text, so searching the dump for a plaintext finds it if it is stored
 * unencrypted anywhere, even inside a binary record. CryptoKeys appear as their type, algorithm
 * and extractability (their key material is not readable by scripts).
 */
export async function indexedDbDump(page: Page): Promise<string> {
  return page.evaluate(`(async () => {
    const latin1 = (bytes) => { let text = ''; for (const byte of bytes) text += String.fromCharCode(byte); return text; };
    const utf8 = (bytes) => new TextDecoder('utf-8', { fatal: false }).decode(bytes);
    const plain = (value) => {
      if (value === null || typeof value !== 'object') return typeof value === 'bigint' ? String(value) : value;
      if (value instanceof ArrayBuffer) return plain(new Uint8Array(value));
      if (ArrayBuffer.isView(value)) {
        const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
        return { $bytes: bytes.length, latin1: latin1(bytes), utf8: utf8(bytes) };
      }
      if (typeof CryptoKey !== 'undefined' && value instanceof CryptoKey) {
        return { $cryptoKey: value.type, algorithm: value.algorithm.name, extractable: value.extractable };
      }
      if (value instanceof Date) return { $date: value.toISOString() };
      if (value instanceof Map) return { $map: [...value].map(([key, entry]) => [plain(key), plain(entry)]) };
      if (value instanceof Set) return { $set: [...value].map(plain) };
      if (Array.isArray(value)) return value.map(plain);
      const out = {};
      for (const [key, entry] of Object.entries(value)) out[key] = plain(entry);
      return out;
    };
    const request = (req) => new Promise((resolve, reject) => { req.onsuccess = () => resolve(req.result); req.onerror = () => reject(req.error); });
    const dump = {};
    for (const info of await indexedDB.databases()) {
      if (!info.name) continue;
      const database = await request(indexedDB.open(info.name));
      try {
        const stores = {};
        for (const name of Array.from(database.objectStoreNames)) {
          const store = database.transaction(name, 'readonly').objectStore(name);
          const [keys, values] = await Promise.all([request(store.getAllKeys()), request(store.getAll())]);
          stores[name] = keys.map((key, index) => ({ key: plain(key), value: plain(values[index]) }));
        }
        dump[info.name] = stores;
      } finally {
        database.close();
      }
    }
    return JSON.stringify(dump);
  })()`);
}

/** axe-core's serious and critical findings on the page as it is now. */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE_SCRIPT });
  return page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((results) =>
    results.violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map((violation) => violation.id + ': ' + violation.help + ' at ' + violation.nodes.map((node) => node.target.join(' ')).join(', ')))`);
}

/**
 * Turns a picture (e.g. a QR screenshot) into a video file for Chromium's fake camera: pass
 * `--use-fake-ui-for-media-stream --use-fake-device-for-media-stream --use-file-for-fake-video-capture=<file>`
 * to a browser process of its own (the camera file is per process).
 */
export function filmForFakeCamera(png: string): string {
  const video = png.replace(/\.png$/, '.y4m');
  execFileSync(
    'ffmpeg',
    ['-y', '-loop', '1', '-i', png, '-vf', 'scale=400:400,pad=640:480:120:40:white,format=yuv420p', '-r', '10', '-t', '2', video],
    { stdio: 'ignore' },
  );
  return video;
}
