/**
 * A Vite build plugin for Subresource Integrity (SPEC SRI-1, SRI-2). Once the build is written it:
 * - hashes every file of the build (scripts, styles, lazily loaded chunks such as the QR scanner,
 *   and the files copied from public/) with SHA-384;
 * - gives every script, stylesheet and modulepreload tag of index.html an `integrity` attribute
 *   (and `crossorigin`, which module scripts need for it), so that a browser refuses a file that
 *   was changed on the server or on the way; a tag that names a file outside the build, or an
 *   inline script (which the Content-Security-Policy forbids anyway), fails the build;
 * - writes `asset-manifest.json`: `{ build, assets: { "/assets/x.js": "sha384-…" } }`, which the
 *   server publishes at /api/assets so that anyone can compare a server's files with a release;
 * - puts the build id into index.html as `<meta name="pairwise-build" content="…">`. The id is a
 *   hash over all the files, so it cannot be compiled into the scripts it hashes; the page that
 *   loaded them carries it instead, and the app reads it from there (no inline script needed).
 * @module
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { Plugin, ResolvedConfig } from 'vite';

/** The manifest's file name in the build folder (the server reads it from WEB_ROOT). */
export const ASSET_MANIFEST_FILE = 'asset-manifest.json';
/** The meta tag's name; apps/web/src/update/app-build.ts reads it. */
export const BUILD_META_NAME = 'pairwise-build';
/** Hex digits of the build id. */
const BUILD_ID_LENGTH = 16;

/** What asset-manifest.json holds. */
export interface AssetManifest {
  readonly build: string;
  readonly assets: Readonly<Record<string, string>>;
}

/** `sha384-<base64>` of some bytes, as the integrity attribute wants it. */
export function sha384(bytes: Uint8Array): string {
  return `sha384-${createHash('sha384').update(bytes).digest('base64')}`;
}

/** Every file under `folder`, as paths relative to it with forward slashes, sorted. */
function filesUnder(folder: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) found.push(relative(folder, path).split(sep).join('/'));
    }
  };
  walk(folder);
  return found.sort();
}

/** A tag's attributes, in order (values unescaped only as far as Vite writes them: plain quotes). */
function attributesOf(source: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const match of source.matchAll(/([^\s"'=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
    const name = match[1];
    if (name !== undefined) attributes.set(name.toLowerCase(), match[2] ?? match[3] ?? match[4] ?? '');
  }
  return attributes;
}

/**
 * Adds integrity (and crossorigin) to each script, stylesheet and modulepreload tag of `html`.
 * `assets` maps site paths ("/assets/x.js") to their digests. Throws on an inline script and on a
 * tag whose file is not part of the build.
 */
export function addIntegrity(html: string, assets: Readonly<Record<string, string>>): string {
  return html.replace(/<(script|link)\b([^>]*?)(\/?)>/gi, (tag, name: string, source: string, selfClosing: string) => {
    const attributes = attributesOf(source);
    const isScript = name.toLowerCase() === 'script';
    const rel = (attributes.get('rel') ?? '').toLowerCase().split(/\s+/);
    if (!isScript && !rel.includes('stylesheet') && !rel.includes('modulepreload')) return tag;
    const url = isScript ? attributes.get('src') : attributes.get('href');
    if (url === undefined) {
      if (isScript) throw new Error('index.html has an inline script; the Content-Security-Policy forbids it');
      return tag;
    }
    const path = new URL(url, 'https://build.invalid/').pathname;
    const digest = /^[a-z][a-z0-9+.-]*:|^\/\//i.test(url) ? undefined : assets[path];
    if (digest === undefined) throw new Error(`index.html loads ${url}, which is not a file of this build`);
    attributes.set('integrity', digest);
    if (!attributes.has('crossorigin')) attributes.set('crossorigin', '');
    const rendered = [...attributes].map(([key, value]) => (value === '' && key !== 'integrity' ? key : `${key}="${value}"`));
    return `<${name} ${rendered.join(' ')}${selfClosing === '/' ? ' /' : ''}>`;
  });
}

/**
 * The build id: a short hash over every file's path and digest and over the page that loads them,
 * so any change to what a browser would run gives a new id.
 */
export function buildIdOf(assets: Readonly<Record<string, string>>, html: string): string {
  const hash = createHash('sha256');
  for (const [path, digest] of Object.entries(assets).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) hash.update(`${path} ${digest}\n`);
  hash.update(html);
  return hash.digest('hex').slice(0, BUILD_ID_LENGTH);
}

/** The Vite plugin; add it to `plugins` (it runs on `vite build` only). */
export function integrityPlugin(): Plugin {
  let config: ResolvedConfig;
  return {
    name: 'pairwise:integrity',
    apply: 'build',
    configResolved(resolved) {
      config = resolved;
    },
    writeBundle: {
      // After every other plugin has written its files: the hashes must be of the final bytes.
      order: 'post',
      sequential: true,
      handler(options) {
        const outDir = resolve(config.root, options.dir ?? config.build.outDir);
        const base = config.base.endsWith('/') ? config.base : `${config.base}/`;
        const assets: Record<string, string> = {};
        for (const file of filesUnder(outDir)) {
          if (file === 'index.html' || file === ASSET_MANIFEST_FILE) continue;
          assets[`${base}${file}`] = sha384(readFileSync(join(outDir, file)));
        }
        const indexFile = join(outDir, 'index.html');
        let html: string;
        try {
          html = addIntegrity(readFileSync(indexFile, 'utf8'), assets);
        } catch (error) {
          this.error(error instanceof Error ? error.message : String(error));
        }
        const build = buildIdOf(assets, html);
        const meta = `<meta name="${BUILD_META_NAME}" content="${build}" />`;
        if (!/<\/head>/i.test(html)) this.error('index.html has no </head> to put the build id before');
        writeFileSync(indexFile, html.replace(/<\/head>/i, `  ${meta}\n  </head>`));
        const manifest: AssetManifest = { build, assets };
        writeFileSync(join(outDir, ASSET_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
      },
    },
  };
}
