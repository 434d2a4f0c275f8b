// The first-load budget (ARCHITECTURE.md): the JavaScript a page loads before the scanner stays
// under 150 KB gzip, and the QR decoder is not part of it (it loads on the Link a device screen).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FIRST_LOAD_BUDGET, measureBundle } from '../../../scripts/web-bundle-size.mjs';

const DIST = resolve(fileURLToPath(import.meta.url), '../../dist');
const built = existsSync(join(DIST, 'index.html'));
if (!built && process.env.CI !== 'true') console.warn('\n*** SKIPPING the bundle size check: the app is not built (npm run build) ***\n');

describe.skipIf(!built && process.env.CI !== 'true')('web app bundle', () => {
  it('loads under 150 KB gzip of JavaScript before the scanner, without the QR decoder', () => {
    const report = measureBundle(DIST);
    console.log(`First-load JavaScript: ${(report.firstLoadGzip / 1024).toFixed(1)} KB gzip; lazy chunks: ${(report.lazyGzip / 1024).toFixed(1)} KB gzip`);
    expect(report.firstLoad.length).toBeGreaterThan(0);
    expect(report.firstLoadGzip).toBeLessThan(FIRST_LOAD_BUDGET);
    // jsQR's options object is the decoder's fingerprint; it must sit in a lazy chunk only.
    for (const file of report.firstLoad) expect(readFileSync(join(DIST, file.file), 'utf8')).not.toContain('inversionAttempts');
    expect(report.lazy.some((file) => readFileSync(join(DIST, file.file), 'utf8').includes('inversionAttempts'))).toBe(true);
  });
});
