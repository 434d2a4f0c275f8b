// Integration: the security headers on every kind of response of a real server process serving the
// built app, Subresource Integrity of that build against the files on disk, and an operator's
// raised minimum protocol version refusing today's clients. Needs the built app (npm run build);
// without it the file is skipped with a visible message, except under CI=true, where the node tests
// run before the app is built: there the suite builds it into a temporary folder first.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLOSE_UPDATE_REQUIRED } from '@pairwise/protocol/errors';
import { PROTOCOL_VERSION } from '@pairwise/protocol/version';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawConnection } from './raw-connection.js';
import { removeDataDir, startServerProcess, type ServerProcess } from './server-process.js';

const WEB_APP = resolve(fileURLToPath(import.meta.url), '../../../../apps/web');
/** The build `npm run build` leaves; under CI=true a fresh one is made when it is missing. */
const builtRoot = join(WEB_APP, 'dist');
let ownBuild: string | null = null;

function webRoot(): string | null {
  if (existsSync(join(builtRoot, 'index.html'))) return builtRoot;
  if (process.env.CI !== 'true') {
    console.warn(`\n*** SKIPPING the security headers integration suite: the web app is not built (npm run build) ***\n`);
    return null;
  }
  console.warn('\n*** The web app is not built: building it into a temporary folder for the security headers suite ***\n');
  ownBuild = mkdtempSync(join(tmpdir(), 'pairwise-web-'));
  const vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin/vite.js');
  execFileSync(process.execPath, [vite, 'build', '--outDir', ownBuild, '--emptyOutDir', '--logLevel', 'warn'], { cwd: WEB_APP, stdio: 'inherit' });
  return ownBuild;
}

const root = webRoot();
const skip = root === null;
const WEB_ROOT = root ?? builtRoot;

/** The values every response must carry, written out here rather than imported: the test is the spec. */
const EXPECTED_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; " +
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'; require-trusted-types-for 'script'; trusted-types 'none'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'permissions-policy':
    'camera=(self), microphone=(), geolocation=(), display-capture=(), payment=(), usb=(), serial=(), hid=(), bluetooth=(), ' +
    'midi=(), accelerometer=(), gyroscope=(), magnetometer=()',
};
const HSTS = 'max-age=63072000; includeSubDomains';
const PAGE = 'no-cache';
const API = 'no-store';
const IMMUTABLE = 'public, max-age=31536000, immutable';

interface Manifest {
  build: string;
  assets: Record<string, string>;
}

function sha384(bytes: Uint8Array): string {
  return `sha384-${createHash('sha384').update(bytes).digest('base64')}`;
}

/** Every file of the build, as site paths ("/assets/x.js"), but the page and the manifest. */
function builtFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.push(`/${relative(WEB_ROOT, path).split(sep).join('/')}`);
    }
  };
  walk(WEB_ROOT);
  return files.filter((file) => file !== '/index.html' && file !== '/asset-manifest.json').sort();
}

/** One request of the route table: what it is, and the status and Cache-Control it must get. */
interface Route {
  readonly name: string;
  readonly send: (base: string) => Promise<Response>;
  readonly status: number;
  readonly cacheControl: string;
}

function routes(assetPath: string): Route[] {
  const get = (path: string) => (base: string) => fetch(`${base}${path}`);
  const page = (path: string): Route => ({ name: `GET ${path}`, send: get(path), status: 200, cacheControl: PAGE });
  return [
    page('/'),
    page('/chats'),
    page('/devices/link'),
    page('/settings'),
    { name: `GET ${assetPath}`, send: get(assetPath), status: 200, cacheControl: IMMUTABLE },
    { name: 'GET /assets/missing.js', send: get('/assets/missing.js'), status: 404, cacheControl: PAGE },
    { name: 'GET /favicon.svg', send: get('/favicon.svg'), status: 200, cacheControl: PAGE },
    { name: 'GET /api/version', send: get('/api/version'), status: 200, cacheControl: API },
    { name: 'GET /api/assets', send: get('/api/assets'), status: 200, cacheControl: API },
    { name: 'GET /api/challenge', send: get('/api/challenge'), status: 200, cacheControl: API },
    { name: 'GET /api/nowhere', send: get('/api/nowhere'), status: 404, cacheControl: API },
    {
      name: 'POST /api/logout (bad body)',
      send: (base) => fetch(`${base}/api/logout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"nonce":1}' }),
      status: 400,
      cacheControl: API,
    },
    {
      name: 'POST /api/logout (not JSON)',
      send: (base) => fetch(`${base}/api/logout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }),
      status: 400,
      cacheControl: API,
    },
  ];
}

async function manifestOf(server: ServerProcess): Promise<Manifest> {
  return (await (await fetch(`http://127.0.0.1:${server.port}/api/assets`)).json()) as Manifest;
}

describe.skipIf(skip)('security headers, integrity and versions against a real server', () => {
  let plain: ServerProcess;
  let tls: ServerProcess;
  let manifest: Manifest;
  const base = (server: ServerProcess) => `http://127.0.0.1:${server.port}`;

  beforeAll(async () => {
    // Two servers: one reached over plain http, one told it sits behind TLS and whose operator
    // raised the minimum protocol version one above what today's clients speak.
    [plain, tls] = await Promise.all([
      startServerProcess({ env: { WEB_ROOT } }),
      startServerProcess({
        env: {
          WEB_ROOT,
          PUBLIC_ORIGIN: 'https://chat.example.test',
          MIN_PROTOCOL_VERSION: String(PROTOCOL_VERSION + 1),
          PAIRWISE_TEST_VERSION_AHEAD: '1',
        },
      }),
    ]);
    manifest = await manifestOf(plain);
  });

  afterAll(async () => {
    for (const server of [plain, tls]) {
      if (!server) continue;
      await server.stop();
      removeDataDir(server);
    }
    if (ownBuild !== null) rmSync(ownBuild, { recursive: true, force: true });
  });

  const firstScript = () => Object.keys(manifest.assets).find((path) => path.startsWith('/assets/') && path.endsWith('.js'))!;

  it('[HEADERS-1] [HEADERS-3] every route carries each security header with the exact value, and the right Cache-Control', async () => {
    for (const route of routes(firstScript())) {
      const response = await route.send(base(plain));
      await response.arrayBuffer();
      expect(response.status, route.name).toBe(route.status);
      for (const [name, value] of Object.entries(EXPECTED_HEADERS)) expect(response.headers.get(name), `${route.name}: ${name}`).toBe(value);
      expect(response.headers.get('cache-control'), route.name).toBe(route.cacheControl);
      // Plain http: no Strict-Transport-Security (HEADERS-2).
      expect(response.headers.get('strict-transport-security'), route.name).toBeNull();
    }
  });

  it('[HEADERS-1] app routes get the built page; an unknown API path stays a JSON 404', async () => {
    const index = readFileSync(join(WEB_ROOT, 'index.html'), 'utf8');
    for (const path of ['/', '/chats', '/devices/link', '/settings']) {
      const response = await fetch(`${base(plain)}${path}`);
      expect(response.headers.get('content-type'), path).toMatch(/^text\/html/);
      expect(await response.text(), path).toBe(index);
    }
    const unknown = await fetch(`${base(plain)}/api/nowhere`);
    expect(await unknown.json()).toEqual({ error: 'not found' });
  });

  it('[HEADERS-1] [REVOKE-4] log out keeps its Clear-Site-Data next to the security headers', async () => {
    const { nonce } = (await (await fetch(`${base(plain)}/api/challenge`)).json()) as { nonce: string };
    // An unknown device is already logged out: the browser is still told to clear the site.
    const response = await fetch(`${base(plain)}/api/logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        accountId: 'nobody',
        deviceId: randomBytes(16).toString('hex'),
        clientTime: Date.now(),
        nonce,
        signature: Buffer.alloc(64).toString('base64url'),
      }),
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('clear-site-data')).toBe('"cache", "cookies", "storage"');
    expect(response.headers.get('cache-control')).toBe(API);
    for (const [name, value] of Object.entries(EXPECTED_HEADERS)) expect(response.headers.get(name), name).toBe(value);
  });

  it('[HEADERS-2] Strict-Transport-Security is sent when the public origin is https, and a forged X-Forwarded-Proto does not add it', async () => {
    for (const route of routes(firstScript())) {
      const response = await route.send(base(tls));
      await response.arrayBuffer();
      expect(response.headers.get('strict-transport-security'), route.name).toBe(HSTS);
      expect(response.headers.get('content-security-policy'), route.name).toBe(EXPECTED_HEADERS['content-security-policy']);
    }
    // The plain server trusts no proxy: a client cannot claim TLS for it.
    const forged = await fetch(`${base(plain)}/api/version`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(forged.headers.get('strict-transport-security')).toBeNull();
  });

  it('[HEADERS-1] the WebSocket upgrade still works under the headers', async () => {
    const connection = await RawConnection.open(plain);
    const response = await connection.request({ case: 'requestChallenge', value: {} });
    expect(response.result.case).toBe('challenge');
    connection.close();
  });

  it('[SRI-2] /api/assets lists every file of the build, lazily loaded chunks included, with digests that match the files', async () => {
    expect(manifest.build).toMatch(/^[0-9a-f]{16}$/);
    expect(Object.keys(manifest.assets).sort()).toEqual(builtFiles());
    expect(Object.keys(manifest.assets).some((path) => /^\/assets\/qr-scanner-[^/]+\.js$/.test(path))).toBe(true);
    for (const [path, digest] of Object.entries(manifest.assets)) {
      expect(sha384(readFileSync(join(WEB_ROOT, path))), `${path} on disk`).toBe(digest);
      const served = new Uint8Array(await (await fetch(`${base(plain)}${path}`)).arrayBuffer());
      expect(sha384(served), `${path} as served`).toBe(digest);
    }
    const version = (await (await fetch(`${base(plain)}/api/version`)).json()) as Record<string, unknown>;
    expect(version).toEqual({ protocolVersion: PROTOCOL_VERSION, minProtocolVersion: PROTOCOL_VERSION, appBuild: manifest.build });
  });

  it('[SRI-1] index.html pins every script, stylesheet and modulepreload with an integrity that matches the file, and has no inline script', async () => {
    const html = await (await fetch(`${base(plain)}/`)).text();
    const tags = [...html.matchAll(/<(script|link)\b([^>]*)>/gi)].map(([, name, attributes]) => ({
      name: name!.toLowerCase(),
      attributes: Object.fromEntries([...attributes!.matchAll(/([a-z-]+)(?:="([^"]*)")?/gi)].map(([, key, value]) => [key!.toLowerCase(), value ?? ''])),
    }));
    const pinned = tags.filter(
      ({ name, attributes }) => name === 'script' || /\b(stylesheet|modulepreload)\b/.test(attributes.rel ?? ''),
    );
    expect(pinned.filter(({ name }) => name === 'script').length).toBeGreaterThan(0);
    expect(pinned.some(({ attributes }) => attributes.rel === 'stylesheet')).toBe(true);
    for (const { name, attributes } of pinned) {
      const url = name === 'script' ? attributes.src : attributes.href;
      expect(url, `${name} without a file (inline)`).toMatch(/^\/assets\//);
      expect('crossorigin' in attributes, url).toBe(true);
      expect(attributes.integrity, url).toBe(sha384(readFileSync(join(WEB_ROOT, url!))));
    }
    expect(html).toContain(`<meta name="pairwise-build" content="${manifest.build}" />`);
  });

  it('[SRI-2] a server without a built app answers /api/assets with a JSON 404 and no appBuild', async () => {
    const bare = await startServerProcess({ env: { WEB_ROOT: join(WEB_ROOT, 'no-such-folder') } });
    try {
      const response = await fetch(`${base(bare)}/api/assets`);
      expect(response.status).toBe(404);
      expect(response.headers.get('cache-control')).toBe(API);
      expect(await response.json()).toEqual({ code: 'NO_BUILT_APP', message: expect.stringContaining('not built') as unknown });
      expect(((await (await fetch(`${base(bare)}/api/version`)).json()) as { appBuild: unknown }).appBuild).toBeNull();
    } finally {
      await bare.stop();
      removeDataDir(bare);
    }
  });

  it('[VERSION-2] a raised MIN_PROTOCOL_VERSION is stated in the challenge and /api/version, and a client below it is refused with UPDATE_REQUIRED', async () => {
    const minimum = PROTOCOL_VERSION + 1;
    const version = (await (await fetch(`${base(tls)}/api/version`)).json()) as Record<string, unknown>;
    expect(version).toMatchObject({ protocolVersion: PROTOCOL_VERSION, minProtocolVersion: minimum });

    const connection = await RawConnection.open(tls);
    const challenge = await connection.request({ case: 'requestChallenge', value: {} });
    expect(challenge.result.case === 'challenge' && challenge.result.value.minProtocolVersion).toBe(minimum);
    const refused = await connection.request({
      case: 'authenticate',
      value: {
        accountId: 'alice',
        deviceId: randomBytes(16).toString('hex'),
        clientTime: Date.now(),
        signature: new Uint8Array(64),
        protocolVersion: PROTOCOL_VERSION,
      },
    });
    expect(refused.error?.code).toBe('UPDATE_REQUIRED');
    expect(await connection.closed()).toBe(CLOSE_UPDATE_REQUIRED);

    // The same client is accepted as far as its version goes by a server with the default minimum.
    const accepted = await RawConnection.open(plain);
    const answer = await accepted.request({
      case: 'authenticate',
      value: { accountId: 'alice', deviceId: randomBytes(16).toString('hex'), clientTime: Date.now(), signature: new Uint8Array(64), protocolVersion: PROTOCOL_VERSION },
    });
    expect(answer.error?.code).not.toBe('UPDATE_REQUIRED');
    accepted.close();
  });
});
