// Smoke test of the built packages: every subpath a package exports is imported by plain Node
// (no test runner, no source condition), as a consumer would. tsc passing does not prove this:
// a wrong "exports" map only fails at run time with ERR_PACKAGE_PATH_NOT_EXPORTED.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const PACKAGES = ['packages/crypto'];

describe('built package exports import under plain Node', () => {
  it.each(PACKAGES)('%s', (dir) => {
    execFileSync('node_modules/.bin/tsc', ['-b', dir], { stdio: 'inherit' });
    const manifest = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')) as {
      name: string;
      exports: Record<string, unknown>;
    };
    const subpaths = Object.keys(manifest.exports).filter((key) => !key.endsWith('.json'));
    expect(subpaths.length).toBeGreaterThan(0);
    const script = `
      const names = ${JSON.stringify(subpaths.map((subpath) => manifest.name + subpath.slice(1)))};
      const counts = {};
      for (const name of names) counts[name] = Object.keys(await import(name)).length;
      console.log(JSON.stringify(counts));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    const counts = JSON.parse(out) as Record<string, number>;
    for (const [name, count] of Object.entries(counts)) expect(count, name).toBeGreaterThan(0);
  });
});
