import { playwright } from '@vitest/browser-playwright';
import { configDefaults, defineConfig } from 'vitest/config';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './scripts/chromium.mjs';

// Two projects share the same test files where it matters:
// - "node": every test, in Node 20;
// - "browser": the cryptographic core's tests again, inside headless Chromium, because companions
//   run there and WebCrypto implementations differ (Chromium has no AES-192, for one).
// A third, "e2e", drives the built web app in Chromium against the real server.
export default defineConfig({
  resolve: { conditions: ['@pairwise/source'] },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['packages/*/src/**/*.test.ts', 'scripts/**/*.test.ts', 'apps/web/src/**/*.test.ts'],
          // Browser-only code (IndexedDB and the like) is tested in the browser project alone.
          exclude: [...configDefaults.exclude, 'packages/*/src/dom/**'],
          environment: 'node',
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          // The web app end to end: real server, Debian's Chromium with a fake camera, Playwright.
          // Run through scripts/test-e2e.mjs, which builds the app and checks the tools first.
          name: 'e2e',
          include: ['apps/web/e2e/**/*.test.ts'],
          environment: 'node',
          // One suite at a time: each drives several Chromium processes and a server, and on two
          // cores suites side by side only slowed each other past their waits, without finishing
          // sooner (about 75 s either way).
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: [
            'packages/crypto/src/**/*.test.ts',
            'packages/client/src/memory-store.test.ts',
            'packages/client/src/dom/**/*.test.ts',
          ],
          testTimeout: 120_000,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({ launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS } }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
