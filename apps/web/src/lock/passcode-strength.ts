/**
 * Whether a new app-lock passcode may be set, and how strong it looks (SPEC LOCK-9): at least
 * `MIN_PASSCODE_LENGTH` characters and a zxcvbn score of at least 2.
 *
 * The passcode is the only thing between a copied browser profile and the history (the copy does
 * not count wrong guesses): Argon2id makes each offline guess cost about half a second and 64 MiB,
 * which protects a passcode outside the few thousand every cracker tries first, not one inside
 * them. zxcvbn's score 2 means "somewhat guessable", more than 10^6 guesses; 0 and 1 are the
 * dictionary words, keyboard walks and dates those lists are made of.
 *
 * The decision is here, apart from the estimator (zxcvbn, loaded with the dialog:
 * `passcode-estimator.ts`), so that it can be tested without a page.
 * @module
 */
import { isAcceptablePasscode, MIN_PASSCODE_LENGTH } from '@pairwise/client/history-lock';

/** zxcvbn's score: 0 (under 10^3 guesses) to 4 (over 10^10). */
export type StrengthScore = 0 | 1 | 2 | 3 | 4;

/** The least score a new passcode needs. */
export const MIN_PASSCODE_SCORE = 2;

/** What a person reads for each score. */
export const STRENGTH_LABELS = ['Very weak', 'Weak', 'Fair', 'Strong', 'Very strong'] as const;
/** One of `STRENGTH_LABELS`. */
export type StrengthLabel = (typeof STRENGTH_LABELS)[number];

/** What the estimator says of a passcode. */
export interface StrengthEstimate {
  readonly score: StrengthScore;
  /** zxcvbn's warning in English ("This is a top-10 common password."), if it has one. */
  readonly warning: string | null;
}

/** Estimates a passcode's strength. */
export type StrengthEstimator = (passcode: string) => StrengthEstimate;

/** The verdict on a new passcode. */
export interface PasscodeStrength {
  readonly score: StrengthScore;
  readonly label: StrengthLabel;
  /** Whether it may be set. */
  readonly acceptable: boolean;
  /** Why it may not, as a sentence to show; null when it may. */
  readonly problem: string | null;
}

/** Judges `passcode` with `estimate`: too short or scored below `MIN_PASSCODE_SCORE` is refused. */
export function judgePasscode(passcode: string, estimate: StrengthEstimator): PasscodeStrength {
  if (typeof passcode !== 'string') throw new TypeError('passcode must be a string');
  const { score, warning } = estimate(passcode);
  const label = STRENGTH_LABELS[score];
  if (!isAcceptablePasscode(passcode)) {
    return { score, label, acceptable: false, problem: `Too short: use at least ${MIN_PASSCODE_LENGTH} characters.` };
  }
  if (score < MIN_PASSCODE_SCORE) {
    const why = warning === null || warning === '' ? 'It would be among the first guesses.' : warning;
    return { score, label, acceptable: false, problem: `Too easy to guess. ${why} Add a few uncommon words.` };
  }
  return { score, label, acceptable: true, problem: null };
}
