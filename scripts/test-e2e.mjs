#!/usr/bin/env node
// Runs the web app's end-to-end suite (apps/web/e2e): builds the packages and the app, makes sure
// Chromium and ffmpeg (the fake camera's video) are there, then runs the "e2e" vitest project.
// - Both present: run.
// - Missing and running as root: install them with apt, then run.
// - Missing otherwise: under CI=true fail, naming the command; elsewhere skip with a visible message.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CHROMIUM_PATH } from './chromium.mjs';

const INSTALL = 'apt-get update && apt-get install -y chromium ffmpeg';

function hasFfmpeg() {
  return spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;
}

const ready = () => existsSync(CHROMIUM_PATH) && hasFfmpeg();

if (!ready()) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot) {
    console.log(`Chromium or ffmpeg is missing; installing with: ${INSTALL}`);
    execFileSync('sh', ['-c', `DEBIAN_FRONTEND=noninteractive ${INSTALL}`], { stdio: 'inherit' });
  }
  if (!ready()) {
    const message = `Chromium (${CHROMIUM_PATH}) or ffmpeg is missing. Install them as root with: ${INSTALL}`;
    if (process.env.CI === 'true') {
      console.error(`${message}\nThe web app e2e suite is mandatory under CI=true.`);
      process.exit(1);
    }
    console.warn(`\n*** SKIPPING the web app e2e suite: ${message} ***\n`);
    process.exit(0);
  }
}

const build = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const run = spawnSync('node_modules/.bin/vitest', ['run', '--project', 'e2e'], { stdio: 'inherit' });
process.exit(run.status ?? 1);
