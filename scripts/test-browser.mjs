#!/usr/bin/env node
// Runs the browser project of the test suite, after making sure Chromium is there.
// ensure-chromium exits 3 when the suites may be skipped (no Chromium, not root, not CI).
import { spawnSync } from 'node:child_process';

const ensure = spawnSync(process.execPath, ['scripts/ensure-chromium.mjs'], { stdio: 'inherit' });
if (ensure.status === 3) process.exit(0);
if (ensure.status !== 0) process.exit(ensure.status ?? 1);
const run = spawnSync('node_modules/.bin/vitest', ['run', '--project', 'browser'], { stdio: 'inherit' });
process.exit(run.status ?? 1);
