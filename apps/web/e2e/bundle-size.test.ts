// The first-load budget (ARCHITECTURE.md): the JavaScript a page loads before the scanner stays
// under 150 KB gzip, and neither the QR decoder (it loads on the Link a device screen) nor the
// passcode strength estimator (it loads with the app lock dialog, LOCK-9) is part of it.
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

  it('[LOCK-9] keeps the passcode strength estimator and its dictionaries out of the first load', () => {
    const report = measureBundle(DIST);
    // zxcvbn's own error message and the names of its dictionaries are its fingerprints.
    const fingerprints = ['Promised matcher', 'passwords-common', 'commonWords-en'];
    const text = (file: { file: string }) => readFileSync(join(DIST, file.file), 'utf8');
    for (const file of report.firstLoad) for (const mark of fingerprints) expect(text(file), `${file.file} ${mark}`).not.toContain(mark);
    for (const mark of fingerprints) expect(report.lazy.some((file) => text(file).includes(mark)), mark).toBe(true);
    const estimator = report.lazy.filter((file) => fingerprints.some((mark) => text(file).includes(mark)));
    console.log(`Passcode estimator chunks: ${(estimator.reduce((sum, file) => sum + file.gzip, 0) / 1024).toFixed(1)} KB gzip`);
  });
});
