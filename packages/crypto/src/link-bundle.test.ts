import { describe, expect, it } from 'vitest';
import { fromUtf8, randomBytes, utf8 } from './bytes.js';
import { InvalidPeerKeyError } from './errors.js';
import { openLinkBundle, sealLinkBundle } from './link-bundle.js';
import { generateX25519KeyPair } from './x25519.js';

const ORIGIN = 'https://chat.example.org';

describe('[LINKBUNDLE-1] link bundles', () => {
  it('open for the companion that showed the QR code, with the same token and origin', async () => {
    const companion = await generateX25519KeyPair();
    const token = randomBytes(16);
    const sealed = await sealLinkBundle(companion.publicKey, { token, origin: ORIGIN }, utf8('account keys'));
    const opened = await openLinkBundle(companion, { token, origin: ORIGIN }, sealed);
    expect(opened && fromUtf8(opened)).toBe('account keys');
  });

  it('do not open for another token, another origin, another companion key, or after any change', async () => {
    const companion = await generateX25519KeyPair();
    const other = await generateX25519KeyPair();
    const token = randomBytes(16);
    const sealed = await sealLinkBundle(companion.publicKey, { token, origin: ORIGIN }, utf8('secret'));
    expect(await openLinkBundle(companion, { token: randomBytes(16), origin: ORIGIN }, sealed)).toBeNull();
    expect(await openLinkBundle(companion, { token, origin: 'https://chat.example.org.evil.test' }, sealed)).toBeNull();
    expect(await openLinkBundle(companion, { token, origin: 'http://chat.example.org' }, sealed)).toBeNull();
    expect(await openLinkBundle(other, { token, origin: ORIGIN }, sealed)).toBeNull();
    for (let i = 0; i < sealed.length; i++) {
      const changed = sealed.slice();
      changed[i] = (changed[i] as number) ^ 0x01;
      expect(await openLinkBundle(companion, { token, origin: ORIGIN }, changed)).toBeNull();
    }
    expect(await openLinkBundle(companion, { token, origin: ORIGIN }, sealed.subarray(0, 40))).toBeNull();
  });

  it('refuse an unusable companion key when sealing', async () => {
    const lowOrder = new Uint8Array(32); // the point 0: every shared secret would be zero
    await expect(sealLinkBundle(lowOrder, { token: randomBytes(16), origin: ORIGIN }, utf8('x'))).rejects.toBeInstanceOf(
      InvalidPeerKeyError,
    );
  });
});
