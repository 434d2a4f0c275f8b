#!/usr/bin/env node
// Reports the web app's JavaScript size, gzipped, and checks the first-load budget: what the page
// loads before the scanner (index.html's module script and the chunks it preloads) must stay under
// 150 KB gzip (ARCHITECTURE.md, "Numbers to design for"). Lazy chunks (the QR scanner) are listed
// apart. Run after `npm run build`:  node scripts/web-bundle-size.mjs [apps/web/dist]
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

/** The budget for JavaScript loaded before the scanner, in bytes of gzip. */
export const FIRST_LOAD_BUDGET = 150 * 1024;

/**
 * Sizes of the built app's JavaScript: `firstLoad` are the files index.html loads (its module
 * script and modulepreload links), `lazy` the rest (loaded by dynamic import).
 * @param {string} dist
 */
export function measureBundle(dist) {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const referenced = new Set(
    [...html.matchAll(/<(?:script[^>]*\bsrc|link[^>]*rel="modulepreload"[^>]*\bhref)="\/?([^"]+\.js)"/g)].map((match) => match[1]),
  );
  const files = readdirSync(join(dist, 'assets'))
    .filter((name) => name.endsWith('.js'))
    .map((name) => {
      const bytes = readFileSync(join(dist, 'assets', name));
      return { file: `assets/${name}`, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
    });
  const firstLoad = files.filter((file) => referenced.has(file.file));
  const lazy = files.filter((file) => !referenced.has(file.file));
  const total = (list) => list.reduce((sum, file) => sum + file.gzip, 0);
  return { firstLoad, lazy, firstLoadGzip: total(firstLoad), lazyGzip: total(lazy) };
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dist = resolve(process.argv[2] ?? 'apps/web/dist');
  const report = measureBundle(dist);
  for (const [title, list] of [['Loaded before the scanner', report.firstLoad], ['Loaded later (dynamic import)', report.lazy]]) {
    console.log(`${title}:`);
    for (const file of list) console.log(`  ${file.file}  ${kb(file.bytes)}, gzip ${kb(file.gzip)}`);
  }
  console.log(`First-load JavaScript: ${kb(report.firstLoadGzip)} gzip (budget ${kb(FIRST_LOAD_BUDGET)}); scanner and other lazy chunks: ${kb(report.lazyGzip)} gzip.`);
  if (report.firstLoad.length === 0) {
    console.error('No JavaScript found in index.html: is the app built?');
    process.exit(1);
  }
  if (report.firstLoadGzip > FIRST_LOAD_BUDGET) {
    console.error('Over budget.');
    process.exit(1);
  }
}
