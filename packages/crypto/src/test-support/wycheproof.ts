/**
 * Shapes of the Wycheproof files the tests read, and a helper that flattens a file's groups.
 * The JSON is imported (not read from disk) so the same tests run in Node and in Chromium.
 */

/** One Wycheproof test: the common fields; each schema adds its own. */
export interface WycheproofTest {
  readonly tcId: number | string;
  readonly comment?: string;
  readonly flags: readonly string[];
  readonly result: 'valid' | 'invalid' | 'acceptable';
}

interface WycheproofFile<G, T> {
  readonly algorithm: string;
  readonly numberOfTests: number;
  readonly testGroups: readonly (G & { readonly tests: readonly T[] })[];
}

/** Every test of a file with its group, and a check that none was lost on the way. */
export function flatten<G, T extends WycheproofTest>(
  file: WycheproofFile<G, T>,
): { group: G; test: T; name: string }[] {
  const out = file.testGroups.flatMap((group) =>
    group.tests.map((test) => ({
      group,
      test,
      name: `tcId ${test.tcId} ${test.result}${test.comment ? ` (${test.comment})` : ''}`,
    })),
  );
  if (out.length !== file.numberOfTests) {
    throw new Error(`${file.algorithm}: ${out.length} tests found, file says ${file.numberOfTests}`);
  }
  return out;
}
