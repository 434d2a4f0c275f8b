#!/usr/bin/env node
// bench/crash-loop: the real server killed with SIGKILL at random intervals while a sender streams
// texts and a recipient acknowledges them (SPEC INBOX-2, INBOX-5, SEND-1). Both are SDK clients
// (real end-to-end encryption, their own reconnects and outbox retries). The server is started
// again on the same port and data after each kill. At the end, once everything has settled,
// every acknowledged send must have arrived exactly once, none twice (neither as the recipient shows
// it nor as inbox rows), none unsent, none refused. The loop is packages/testing/src/crash-loop.ts,
// which the test suite runs for 20 s.
//
//   npm run bench:crash-loop -- [--duration 120] [--seed N] [--min 2] [--max 10] [--database postgres]
//                               [--send-every 5] [--max-unacknowledged 100] [--drain 60]
// --min/--max: seconds to the next kill, from the start and from the sender's return after each
// restart (uniform, seeded; the seed is printed, and --seed replays the schedule). --send-every:
// ms between sends, while fewer than --max-unacknowledged are waiting (the SDK sends one at a
// time, in order, so the stream is as fast as the server answers). --database postgres uses DATABASE_URL
// (postgres://postgres@127.0.0.1:5432/test by default) in a fresh schema, dropped afterwards.
// Prints the counts and a last line PASS or FAIL: <why>; exit code 0 or 1.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeMachine } from '../machine.mjs';
import { failure, runCrashLoop, summary } from '../../packages/testing/dist/crash-loop.js';
import { removeDataDir, startServerProcess } from '../../packages/testing/dist/server-process.js';
import { freshSchema } from '../fresh-schema.mjs';


const { values: a } = parseArgs({
  options: {
    duration: { type: 'string', default: '120' },
    seed: { type: 'string' },
    min: { type: 'string', default: '2' },
    max: { type: 'string', default: '10' },
    database: { type: 'string', default: 'sqlite' },
    'send-every': { type: 'string', default: '5' },
    'max-unacknowledged': { type: 'string', default: '100' },
    drain: { type: 'string', default: '60' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (a.help) {
  console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').filter((line) => line.startsWith('//')).join('\n'));
  process.exit(0);
}

function number(name, min, max) {
  const value = Number(a[name]);
  if (!Number.isFinite(value) || value < min || value > max) {
    console.error(`--${name} must be a number from ${min} to ${max}`);
    process.exit(2);
  }
  return value;
}

const duration = number('duration', 1, 3600);
const minKill = number('min', 0.1, 600);
const maxKill = number('max', minKill, 600);
const sendEvery = number('send-every', 1, 10_000);
const maxUnacknowledged = number('max-unacknowledged', 1, 100_000);
const drain = number('drain', 1, 600);
const seed = a.seed === undefined ? randomBytes(4).readUInt32BE(0) : number('seed', 0, 2 ** 32 - 1);
if (a.database !== 'sqlite' && a.database !== 'postgres') {
  console.error('--database must be sqlite or postgres');
  process.exit(2);
}

const schema = a.database === 'postgres' ? await freshSchema('crashloop') : null;
console.error(`bench/crash-loop on ${describeMachine()}`);
console.error(
  `seed ${seed}; ${duration} s, a kill ${minKill}-${maxKill} s after the start and after each return of the sender, a send every ${sendEvery} ms (at most ${maxUnacknowledged} waiting); ` +
    `database ${a.database === 'postgres' ? 'PostgreSQL' : 'SQLite'}`,
);
let server = await startServerProcess({ env: schema ? { DATABASE_URL: schema.url } : {} });
// Interrupted: the server (a child, not killed with this process) and the schema go too.
process.once('SIGINT', () => void Promise.allSettled([server.stop(), schema?.drop()]).finally(() => process.exit(130)));
let result;
try {
  result = await runCrashLoop({
    server,
    onServer: (restarted) => (server = restarted),
    durationMs: duration * 1000,
    killEveryMs: { min: minKill * 1000, max: maxKill * 1000 },
    seed,
    sendEveryMs: sendEvery,
    maxUnacknowledged,
    drainMs: drain * 1000,
    log: (line) => console.error(`  ${line}`),
  });
} finally {
  await server.stop();
  removeDataDir(server);
  await schema?.drop();
}

const why = failure(result);
console.log(JSON.stringify({ ...result, lost: result.lost.length, duplicates: result.duplicates.length, duplicateRows: result.duplicateRows.length, unknown: result.unknown.length, refused: result.refused.length, database: a.database }));
console.log(summary(result));
console.log(why === null ? 'PASS' : `FAIL: ${why}`);
process.exit(why === null ? 0 : 1);
