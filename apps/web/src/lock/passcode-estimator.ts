/**
 * The passcode strength estimator (zxcvbn-ts with its common and English dictionaries), loaded
 * only when the app lock dialog opens (SPEC LOCK-9).
 *
 * Its dictionaries are most of a megabyte: imported statically they would be part of every
 * page's first load (ARCHITECTURE.md's 150 KB budget, apps/web/e2e/bundle-size.test.ts), for a
 * dialog most people open once. The dynamic imports make Vite put them in chunks of their own,
 * fetched (and then cached) the first time the dialog opens.
 * @module
 */
import type { StrengthEstimator, StrengthScore } from './passcode-strength.js';

/** Words a passcode made of them is weak for here, whatever the dictionaries say. */
const APP_WORDS = ['pairwise', 'passcode', 'app lock'];

let loading: Promise<StrengthEstimator> | null = null;

/**
 * Loads the estimator (once; a failed load is tried again at the next call). Rejects when its
 * chunks cannot be fetched, e.g. with the server out of reach.
 */
export function loadPasscodeEstimator(): Promise<StrengthEstimator> {
  if (loading === null) {
    const started = load();
    loading = started;
    started.catch(() => {
      if (loading === started) loading = null;
    });
  }
  return loading;
}

async function load(): Promise<StrengthEstimator> {
  const [{ ZxcvbnFactory }, common, english] = await Promise.all([
    import('@zxcvbn-ts/core'),
    import('@zxcvbn-ts/language-common'),
    import('@zxcvbn-ts/language-en'),
  ]);
  const zxcvbn = new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...english.dictionary },
    graphs: common.adjacencyGraphs,
    translations: english.translations,
    // Near-misses of dictionary words ("passw0rdd") count as the word.
    useLevenshteinDistance: true,
  });
  return (passcode) => {
    const result = zxcvbn.check(passcode, APP_WORDS);
    return { score: result.score satisfies StrengthScore, warning: result.feedback.warning };
  };
}
