// ML-KEM-768 against Wycheproof mlkem_768_test.json (key generation and decapsulation) and
// mlkem_768_encaps_test.json (encapsulation, including the FIPS 203 modulus check).
import { describe, expect, it } from 'vitest';
import decapsVectors from '../test-vectors/wycheproof/mlkem_768_test.json';
import encapsVectors from '../test-vectors/wycheproof/mlkem_768_encaps_test.json';
import { fromHex, toHex } from './bytes.js';
import { InvalidPeerKeyError } from './errors.js';
import { generateMlKemKeyPair, mlKemDecapsulate, mlKemEncapsulate } from './ml-kem.js';
import { flatten, type WycheproofTest } from './test-support/wycheproof.js';

interface MlKemTest extends WycheproofTest {
  readonly seed: string;
  readonly ek?: string;
  readonly c: string;
  readonly K: string;
}

interface MlKemEncapsTest extends WycheproofTest {
  readonly m: string;
  readonly ek: string;
  readonly c: string;
  readonly K: string;
}

describe('[CRYPTO-1] ML-KEM-768, Wycheproof key generation and decapsulation', () => {
  const cases = flatten<object, MlKemTest>(decapsVectors as never);

  it('has the whole file', () => {
    expect(cases.length).toBe(193);
  });

  it.each(cases)('$name', ({ test }) => {
    const run = (): { ek: string; K: string } => {
      const pair = generateMlKemKeyPair(fromHex(test.seed));
      return { ek: toHex(pair.publicKey), K: toHex(mlKemDecapsulate(fromHex(test.c), pair.secretKey)) };
    };
    if (test.result === 'invalid') {
      // Seeds of the wrong length are a caller's error; ciphertexts of the wrong length a peer's.
      expect(run).toThrow();
      return;
    }
    const out = run();
    if (test.ek !== undefined) expect(out.ek).toBe(test.ek);
    expect(out.K).toBe(test.K);
  });
});

describe('[CRYPTO-1] ML-KEM-768, Wycheproof encapsulation', () => {
  const cases = flatten<object, MlKemEncapsTest>(encapsVectors as never);

  it('has the whole file', () => {
    expect(cases.length).toBe(265);
  });

  it.each(cases)('$name', ({ test }) => {
    const run = (): { c: string; K: string } => {
      const out = mlKemEncapsulate(fromHex(test.ek), fromHex(test.m));
      return { c: toHex(out.ciphertext), K: toHex(out.sharedSecret) };
    };
    if (test.result === 'invalid') {
      expect(run).toThrow(InvalidPeerKeyError);
      return;
    }
    expect(run()).toEqual({ c: test.c, K: test.K });
  });
});

describe('[CRYPTO-1] ML-KEM-768 round trip', () => {
  it('both sides agree, and a changed ciphertext yields a different secret (implicit rejection)', () => {
    const pair = generateMlKemKeyPair();
    const { ciphertext, sharedSecret } = mlKemEncapsulate(pair.publicKey);
    expect(toHex(mlKemDecapsulate(ciphertext, pair.secretKey))).toBe(toHex(sharedSecret));
    const changed = ciphertext.slice();
    changed[0] = (changed[0] as number) ^ 1;
    expect(toHex(mlKemDecapsulate(changed, pair.secretKey))).not.toBe(toHex(sharedSecret));
    // The secret key is still usable: the library did not wipe our copy.
    expect(toHex(mlKemDecapsulate(ciphertext, pair.secretKey))).toBe(toHex(sharedSecret));
  });
});
