// X25519 against RFC 7748 (sections 5.2 and 6.1) and Wycheproof x25519_test.json.
import { describe, expect, it } from 'vitest';
import wycheproof from '../test-vectors/wycheproof/x25519_test.json';
import { fromHex, toHex } from './bytes.js';
import { InvalidPeerKeyError } from './errors.js';
import { importX25519PrivateKey } from './test-support/raw-private-keys.js';
import { flatten, type WycheproofTest } from './test-support/wycheproof.js';
import { generateX25519KeyPair, x25519 } from './x25519.js';

async function scalarMult(scalarHex: string, uHex: string): Promise<string> {
  return toHex(await x25519(await importX25519PrivateKey(fromHex(scalarHex)), fromHex(uHex)));
}

describe('[CRYPTO-1] X25519, RFC 7748', () => {
  it('section 5.2 test vectors', async () => {
    expect(
      await scalarMult(
        'a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4',
        'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c',
      ),
    ).toBe('c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552');
    expect(
      await scalarMult(
        '4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d',
        'e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493',
      ),
    ).toBe('95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957');
  });

  it('section 5.2 iterated: 1 and 1,000 iterations', async () => {
    let k = '0900000000000000000000000000000000000000000000000000000000000000';
    let u = k;
    for (let i = 1; i <= 1000; i++) {
      const next = await scalarMult(k, u);
      u = k;
      k = next;
      if (i === 1) expect(k).toBe('422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079');
    }
    expect(k).toBe('684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51');
  });

  it('section 6.1 Diffie-Hellman', async () => {
    const alice = '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a';
    const bob = '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb';
    const alicePublic = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
    const bobPublic = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f';
    const base = '0900000000000000000000000000000000000000000000000000000000000000';
    expect(await scalarMult(alice, base)).toBe(alicePublic);
    expect(await scalarMult(bob, base)).toBe(bobPublic);
    const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
    expect(await scalarMult(alice, bobPublic)).toBe(shared);
    expect(await scalarMult(bob, alicePublic)).toBe(shared);
  });
});

interface XdhTest extends WycheproofTest {
  readonly public: string;
  readonly private: string;
  readonly shared: string;
}

describe('[CRYPTO-1] X25519, Wycheproof', () => {
  const cases = flatten<object, XdhTest>(wycheproof as never);

  it('has the whole file', () => {
    expect(cases.length).toBe(518);
  });

  it.each(cases)('$name', async ({ test }) => {
    const privateKey = await importX25519PrivateKey(fromHex(test.private));
    const outcome = await x25519(privateKey, fromHex(test.public)).then(
      (shared) => ({ shared: toHex(shared) }),
      (error: unknown) => ({ error }),
    );
    if ('error' in outcome) {
      // Refusing is right only where Wycheproof allows it, and only as a peer-key refusal.
      expect(test.result).not.toBe('valid');
      expect(outcome.error).toBeInstanceOf(InvalidPeerKeyError);
      // We refuse exactly the all-zero shared secrets (RFC 7748 section 6.1).
      expect(/^0+$/.test(test.shared)).toBe(true);
    } else {
      expect(test.result).not.toBe('invalid');
      expect(outcome.shared).toBe(test.shared);
    }
  });
});

describe('[CRYPTO-2] X25519 keys and misuse', () => {
  it('generated private keys are non-extractable and both sides agree', async () => {
    const [a, b] = await Promise.all([generateX25519KeyPair(), generateX25519KeyPair()]);
    expect(a.privateKey.extractable).toBe(false);
    expect(a.publicKey.length).toBe(32);
    expect(toHex(await x25519(a.privateKey, b.publicKey))).toBe(toHex(await x25519(b.privateKey, a.publicKey)));
  });

  it('refuses peer keys of the wrong length as a peer error and non-bytes as a TypeError', async () => {
    const a = await generateX25519KeyPair();
    await expect(x25519(a.privateKey, new Uint8Array(31))).rejects.toBeInstanceOf(InvalidPeerKeyError);
    await expect(x25519(a.privateKey, 'key' as never)).rejects.toBeInstanceOf(TypeError);
  });
});
