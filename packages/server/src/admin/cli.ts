#!/usr/bin/env node
/**
 * `pairwise-admin`: the operator's command line (backup, restore, move-to-postgres); see
 * run-admin.ts and docs/operations.md.
 * @module
 */
import { runAdmin } from './run-admin.js';

const status = await runAdmin(process.argv.slice(2), process.env, {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
});
process.exitCode = status;
