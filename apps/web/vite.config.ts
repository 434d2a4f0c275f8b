// Builds the web app into dist/, which the server serves (WEB_ROOT). Everything the page runs is
// a built file: no inline script, so a strict Content-Security-Policy can forbid them. The
// integrity plugin then pins every file with Subresource Integrity and writes asset-manifest.json.
import { PROTOCOL_VERSION } from '@pairwise/protocol/version';
import preact from '@preact/preset-vite';
import { defaultClientConditions, defineConfig } from 'vite';
import { integrityPlugin } from './build/integrity-plugin.js';

/** The server a `vite` dev server forwards /ws and /api to (run it with PUBLIC_ORIGIN=http://localhost:5173). */
const DEV_SERVER = process.env.PAIRWISE_DEV_SERVER ?? 'http://localhost:8080';

export default defineConfig({
  plugins: [preact(), integrityPlugin()],
  // The app tells the server's minimum apart from its own version (src/update/app-version.ts).
  define: { __PAIRWISE_PROTOCOL_VERSION__: JSON.stringify(PROTOCOL_VERSION) },
  // The workspace packages are bundled from their TypeScript sources, as the tests run them.
  resolve: { conditions: ['@pairwise/source', ...defaultClientConditions] },
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    // Data URLs would need `data:` in the CSP: keep every asset a file.
    assetsInlineLimit: 0,
  },
  server: {
    proxy: {
      '/ws': { target: DEV_SERVER, ws: true },
      '/api': { target: DEV_SERVER },
    },
  },
});
