// Smoke test of the built packages: every subpath a package exports is imported by plain Node
// (no test runner, no source condition), as a consumer would. tsc passing does not prove this:
// a wrong "exports" map only fails at run time with ERR_PACKAGE_PATH_NOT_EXPORTED.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const PACKAGES = ['packages/crypto', 'packages/protocol', 'packages/client', 'packages/server', 'packages/testing'];

/** Subpaths that are not for plain Node: browser-only code, and the server's entry point (it starts listening). */
const NOT_FOR_NODE = new Set(['@pairwise/client/dom/indexeddb-store']);

describe('built package exports import under plain Node', () => {
  it.each(PACKAGES)('%s', (dir) => {
    execFileSync('node_modules/.bin/tsc', ['-b', 'tsconfig.build.json'], { stdio: 'inherit' });
    const manifest = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')) as {
      name: string;
      exports: Record<string, unknown>;
    };
    const subpaths = Object.keys(manifest.exports).filter((key) => !key.endsWith('.json'));
    expect(subpaths.length).toBeGreaterThan(0);
    const script = `
      const names = ${JSON.stringify(subpaths.map((subpath) => manifest.name + subpath.slice(1)).filter((name) => !NOT_FOR_NODE.has(name)))};
      const counts = {};
      for (const name of names) counts[name] = Object.keys(await import(name)).length;
      console.log(JSON.stringify(counts));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    const counts = JSON.parse(out) as Record<string, number>;
    // Every subpath imported (a wrong map throws above); type-only modules export nothing at run time.
    expect(Object.keys(counts).length).toBeGreaterThan(0);
    expect(Object.values(counts).reduce((sum, count) => sum + count, 0)).toBeGreaterThan(0);
  });
});
