/**
 * The built web app's asset manifest (SPEC SRI-2): `asset-manifest.json`, written by the app's
 * build next to index.html, names every file of the build with its SHA-384 digest and a short
 * build id over them all. The server reads it once at start and publishes it at GET /api/assets,
 * so that anyone can compare what the server hands out with a published build, and states the
 * build id in GET /api/version, so that an open app can see that a newer one is being served.
 * @module
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The file's name inside WEB_ROOT. */
export const ASSET_MANIFEST_FILE = 'asset-manifest.json';

/** What asset-manifest.json holds. */
export interface AssetManifest {
  /** A short hex id of the build: a hash over every file of it. */
  readonly build: string;
  /** Each file's path from the site root ("/assets/index-abc.js") and its `sha384-…` digest. */
  readonly assets: Readonly<Record<string, string>>;
}

/** Either the manifest, or why there is none (for the 404 and the log). */
export type AssetManifestResult = { readonly manifest: AssetManifest } | { readonly problem: string };

const BUILD = /^[0-9a-f]{8,64}$/;
const ASSET_PATH = /^\/[A-Za-z0-9._/-]+$/;
const SHA384 = /^sha384-[A-Za-z0-9+/]{64}$/;

/** Checks a parsed manifest against its schema; throws naming the first bad field. */
export function parseAssetManifest(value: unknown): AssetManifest {
  if (typeof value !== 'object' || value === null) throw new Error('it is not a JSON object');
  const { build, assets } = value as { build?: unknown; assets?: unknown };
  if (typeof build !== 'string' || !BUILD.test(build)) throw new Error('"build" must be a lowercase hex id');
  if (typeof assets !== 'object' || assets === null || Array.isArray(assets)) throw new Error('"assets" must be an object');
  const checked: Record<string, string> = {};
  for (const [path, digest] of Object.entries(assets)) {
    if (!ASSET_PATH.test(path) || path.includes('..')) throw new Error(`"${path}" is not a path from the site root`);
    if (typeof digest !== 'string' || !SHA384.test(digest)) throw new Error(`the digest of "${path}" is not sha384-<base64>`);
    checked[path] = digest;
  }
  if (Object.keys(checked).length === 0) throw new Error('"assets" is empty');
  return Object.freeze({ build, assets: Object.freeze(checked) });
}

/** Reads WEB_ROOT's manifest; a missing or invalid one is reported, not thrown. */
export function readAssetManifest(webRoot: string | null): AssetManifestResult {
  if (webRoot === null) return { problem: 'no web app is configured (WEB_ROOT)' };
  const file = join(webRoot, ASSET_MANIFEST_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { problem: 'the web app is not built (no asset-manifest.json in WEB_ROOT); run npm run build' };
  }
  try {
    return { manifest: parseAssetManifest(JSON.parse(text)) };
  } catch (error) {
    return { problem: `WEB_ROOT's asset-manifest.json is invalid: ${error instanceof Error ? error.message : String(error)}` };
  }
}
