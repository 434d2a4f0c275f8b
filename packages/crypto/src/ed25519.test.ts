// Ed25519 against RFC 8032 section 7.1 and Wycheproof ed25519_test.json.
import { describe, expect, it } from 'vitest';
import wycheproof from '../test-vectors/wycheproof/ed25519_test.json';
import { fromHex, toHex, utf8 } from './bytes.js';
import { ed25519Sign, ed25519Verify, generateEd25519KeyPair } from './ed25519.js';
import { importEd25519PrivateKey } from './test-support/raw-private-keys.js';
import { flatten, type WycheproofTest } from './test-support/wycheproof.js';

// RFC 8032 section 7.1: TEST 1, TEST 2, TEST 3 and TEST SHA(abc).
const RFC8032 = [
  {
    name: 'TEST 1',
    secret: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    public: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2',
    secret: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    public: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'TEST 3',
    secret: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    public: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature:
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
  {
    name: 'TEST SHA(abc)',
    secret: '833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42',
    public: 'ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf',
    message:
      'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    signature:
      'dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704',
  },
];

describe('[CRYPTO-1] Ed25519, RFC 8032 section 7.1', () => {
  it.each(RFC8032)('$name signs deterministically and verifies', async (vector) => {
    const key = await importEd25519PrivateKey(fromHex(vector.secret));
    const message = fromHex(vector.message);
    expect(toHex(await ed25519Sign(key, message))).toBe(vector.signature);
    expect(await ed25519Verify(fromHex(vector.public), message, fromHex(vector.signature))).toBe(true);
    const changed = fromHex(vector.signature);
    changed[0] = (changed[0] as number) ^ 1;
    expect(await ed25519Verify(fromHex(vector.public), message, changed)).toBe(false);
  });
});

interface EddsaGroup {
  readonly publicKey: { readonly pk: string };
}
interface EddsaTest extends WycheproofTest {
  readonly msg: string;
  readonly sig: string;
}

describe('[CRYPTO-1] Ed25519, Wycheproof', () => {
  const cases = flatten<EddsaGroup, EddsaTest>(wycheproof as never);

  it('has the whole file', () => {
    expect(cases.length).toBe(151);
  });

  it.each(cases)('$name', async ({ group, test }) => {
    const ok = await ed25519Verify(fromHex(group.publicKey.pk), fromHex(test.msg), fromHex(test.sig));
    if (test.result === 'valid') expect(ok).toBe(true);
    if (test.result === 'invalid') expect(ok).toBe(false);
  });
});

describe('[CRYPTO-2] Ed25519 keys and misuse', () => {
  it('generated private keys are non-extractable and sign verifiably', async () => {
    const pair = await generateEd25519KeyPair();
    expect(pair.privateKey.extractable).toBe(false);
    const signature = await ed25519Sign(pair.privateKey, utf8('hello'));
    expect(await ed25519Verify(pair.publicKey, utf8('hello'), signature)).toBe(true);
    expect(await ed25519Verify(pair.publicKey, utf8('hellO'), signature)).toBe(false);
  });

  it('returns false, never throws, for malformed keys and signatures from peers', async () => {
    const pair = await generateEd25519KeyPair();
    const signature = await ed25519Sign(pair.privateKey, utf8('x'));
    expect(await ed25519Verify(new Uint8Array(31), utf8('x'), signature)).toBe(false);
    expect(await ed25519Verify(pair.publicKey, utf8('x'), signature.subarray(1))).toBe(false);
    expect(await ed25519Verify(new Uint8Array(32).fill(0xff), utf8('x'), signature)).toBe(false);
  });

  it('throws a TypeError naming the argument when given something other than bytes', async () => {
    const pair = await generateEd25519KeyPair();
    await expect(ed25519Verify(pair.publicKey, 'x' as never, new Uint8Array(64))).rejects.toThrow(/message/);
  });
});
