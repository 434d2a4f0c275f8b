// The pure packages cannot reach Node or the DOM: this compiles a probe file under the exact
// compiler options of packages/crypto and expects each forbidden use to be a type error. It fails
// if someone adds "dom" to lib or "node" to types there.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const PURE_TSCONFIGS = ['packages/crypto/tsconfig.json'];

const FORBIDDEN = {
  window: 'export const probe = window;',
  document: 'export const probe = document.title;',
  Buffer: 'export const probe = Buffer.from("x");',
  process: 'export const probe = process.env;',
  'node:fs': 'import { readFileSync } from "node:fs"; export const probe = readFileSync;',
  localStorage: 'export const probe = localStorage;',
};

function diagnosticsFor(tsconfigPath: string, source: string): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(tsconfigPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!config) throw new Error(`cannot read ${tsconfigPath}`);
  const dir = mkdtempSync(join(tmpdir(), 'pairwise-purity-'));
  try {
    const file = join(dir, 'probe.ts');
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
    writeFileSync(file, source);
    const options = { ...config.options, noEmit: true, composite: false, incremental: false, rootDir: dir };
    const program = ts.createProgram([file], options);
    return ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file?.fileName === file)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' '));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('pure packages compile without Node or DOM', () => {
  for (const tsconfig of PURE_TSCONFIGS) {
    it(`${tsconfig}: WebCrypto through globalThis compiles`, () => {
      const ok = 'export const probe = (globalThis as { crypto?: unknown }).crypto;';
      expect(diagnosticsFor(tsconfig, ok)).toEqual([]);
    });

    it.each(Object.entries(FORBIDDEN))(`${tsconfig}: %s does not compile`, (name, source) => {
      const messages = diagnosticsFor(tsconfig, source);
      // The error must be about the forbidden name itself, not some unrelated setup problem.
      expect(messages.some((m) => /Cannot find (name|module)/.test(m) && m.includes(name))).toBe(true);
    });
  }
});
