import { describe, expect, it } from 'vitest';
import { loadPasscodeEstimator } from './passcode-estimator.js';
import { judgePasscode, MIN_PASSCODE_SCORE, type StrengthEstimator, type StrengthScore } from './passcode-strength.js';

const scoring = (score: StrengthScore, warning: string | null = null): StrengthEstimator => () => ({ score, warning });

describe('[LOCK-9] the new passcode rule', () => {
  it('refuses the weakest passcodes with zxcvbn and accepts a long random phrase', async () => {
    const estimate = await loadPasscodeEstimator();
    for (const weak of ['password', '123456', 'qwerty12', 'iloveyou', 'password1', 'pairwise1', 'abcdefg']) {
      const verdict = judgePasscode(weak, estimate);
      expect(verdict.acceptable, weak).toBe(false);
      expect(verdict.score, weak).toBeLessThan(MIN_PASSCODE_SCORE);
      expect(verdict.problem, weak).toMatch(/^Too easy to guess\./);
    }
    const phrase = judgePasscode('tundra velvet quorum lantern 42', estimate);
    expect(phrase).toEqual({ score: 4, label: 'Very strong', acceptable: true, problem: null });
    // The passcodes the end-to-end tests set must pass the rule they are set through.
    for (const used of ['lantern ferry 42', 'harbour lights 77']) expect(judgePasscode(used, estimate).acceptable, used).toBe(true);
  });

  it('names the strength and gives zxcvbn’s warning for a refused passcode', async () => {
    const estimate = await loadPasscodeEstimator();
    const verdict = judgePasscode('password', estimate);
    expect(verdict.label).toBe('Very weak');
    expect(verdict.problem).toBe('Too easy to guess. This is a heavily used password. Add a few uncommon words.');
  });

  it('draws the line at score 2 and at 6 characters, whatever the score', () => {
    expect(judgePasscode('abcdefgh', scoring(1)).acceptable).toBe(false);
    expect(judgePasscode('abcdefgh', scoring(2))).toEqual({ score: 2, label: 'Fair', acceptable: true, problem: null });
    expect(judgePasscode('abcdefgh', scoring(3)).label).toBe('Strong');
    expect(judgePasscode('abcdefgh', scoring(0, 'This is similar to a commonly used password.')).problem).toBe(
      'Too easy to guess. This is similar to a commonly used password. Add a few uncommon words.',
    );
    const short = judgePasscode('x9!Qz', scoring(4));
    expect(short.acceptable).toBe(false);
    expect(short.problem).toBe('Too short: use at least 6 characters.');
    // Characters, not UTF-16 units: six emoji are six characters.
    expect(judgePasscode('🦊🦉🐙🦀🐝🦋', scoring(3)).acceptable).toBe(true);
    expect(() => judgePasscode(42 as unknown as string, scoring(4))).toThrow(TypeError);
  });
});
