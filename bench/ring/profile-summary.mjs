#!/usr/bin/env node
// Summarises a V8 CPU profile (node --cpu-prof, as bench:ring --profile writes): the self time of
// its samples by function and by where the code lives (a package under node_modules, the project's
// own packages, Node's internals), largest first.
//
//   node bench/ring/profile-summary.mjs PROFILE.cpuprofile [--top 30] [--last SECONDS]
// --last counts only the samples of the profile's last SECONDS (the measured run, without the
// accounts' registration and sign-in before it).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: a, positionals } = parseArgs({ options: { top: { type: 'string', default: '30' }, last: { type: 'string' } }, allowPositionals: true });
if (positionals.length !== 1) {
  console.error('usage: node bench/ring/profile-summary.mjs PROFILE.cpuprofile [--top 30]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
// Time of each sample: the delta to the next one.
const selfUs = new Map();
const from = a.last === undefined ? -Infinity : profile.endTime - Number(a.last) * 1e6;
let at = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  at += profile.timeDeltas[i];
  if (at < from) continue;
  const id = profile.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
}
const total = [...selfUs.values()].reduce((sum, us) => sum + us, 0);

/** Where a frame's code lives, in a few words. */
function place(url, name) {
  if (url === '') return name.startsWith('(') ? name : '(native)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const packages = url.match(/\/packages\/([^/]+)\//);
  if (packages) return `@pairwise/${packages[1]}`;
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

const byFunction = new Map();
const byPlace = new Map();
for (const [id, us] of selfUs) {
  const { callFrame } = byId.get(id);
  const where = place(callFrame.url, callFrame.functionName);
  const file = callFrame.url.split('/').slice(-1)[0];
  const key = `${callFrame.functionName || '(anonymous)'} ${file}:${callFrame.lineNumber + 1} [${where}]`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  byPlace.set(where, (byPlace.get(where) ?? 0) + us);
}
const share = (us) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
console.log(`${(total / 1e6).toFixed(1)} s of samples`);
console.log('\nby where the code lives:');
for (const [where, us] of [...byPlace].sort((x, y) => y[1] - x[1]).slice(0, 15)) console.log(`${share(us)}  ${where}`);
console.log('\nby function (self time):');
for (const [key, us] of [...byFunction].sort((x, y) => y[1] - x[1]).slice(0, Number(a.top))) console.log(`${share(us)}  ${key}`);
