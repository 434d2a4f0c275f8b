import { describe, expect, it } from 'vitest';
import { fromUtf8, randomBytes, utf8 } from './bytes.js';
import { ByteWriter } from './encoding.js';
import { InvalidPeerKeyError } from './errors.js';
import { openSealedBox, SEALED_BOX_OVERHEAD, sealToPublicKey } from './sealed-box.js';
import { generateX25519KeyPair } from './x25519.js';

const binding = (label: string, place: string) => new ByteWriter().string(label).string(place).finish();

describe('sealed boxes', () => {
  it('open with the recipient key and the same binding; the plaintext does not appear in the box', async () => {
    const recipient = await generateX25519KeyPair();
    const sealed = await sealToPublicKey(recipient.publicKey, binding('test', 'a'), utf8('hello history'));
    expect(sealed.length).toBe('hello history'.length + SEALED_BOX_OVERHEAD);
    expect(String.fromCharCode(...sealed)).not.toContain('hello');
    const opened = await openSealedBox(recipient, binding('test', 'a'), sealed);
    expect(opened && fromUtf8(opened)).toBe('hello history');
  });

  it('do not open for another key, another binding, or after any change', async () => {
    const recipient = await generateX25519KeyPair();
    const other = await generateX25519KeyPair();
    const sealed = await sealToPublicKey(recipient.publicKey, binding('test', 'a'), utf8('x'));
    expect(await openSealedBox(other, binding('test', 'a'), sealed)).toBeNull();
    expect(await openSealedBox(recipient, binding('test', 'b'), sealed)).toBeNull();
    expect(await openSealedBox(recipient, binding('other', 'a'), sealed)).toBeNull();
    // The recipient's public key is part of the context: a mismatched pair does not open it.
    expect(await openSealedBox({ publicKey: other.publicKey, privateKey: recipient.privateKey }, binding('test', 'a'), sealed)).toBeNull();
    for (let i = 0; i < sealed.length; i++) {
      const changed = sealed.slice();
      changed[i] = (changed[i] as number) ^ 0x80;
      expect(await openSealedBox(recipient, binding('test', 'a'), changed)).toBeNull();
    }
    expect(await openSealedBox(recipient, binding('test', 'a'), sealed.subarray(0, SEALED_BOX_OVERHEAD - 1))).toBeNull();
  });

  it('use a fresh ephemeral key for every box', async () => {
    const recipient = await generateX25519KeyPair();
    const a = await sealToPublicKey(recipient.publicKey, binding('test', 'a'), utf8('same'));
    const b = await sealToPublicKey(recipient.publicKey, binding('test', 'a'), utf8('same'));
    expect(a.slice(1, 33)).not.toEqual(b.slice(1, 33));
    expect(a).not.toEqual(b);
  });

  it('refuse an unusable recipient key', async () => {
    await expect(sealToPublicKey(new Uint8Array(32), binding('test', 'a'), randomBytes(4))).rejects.toBeInstanceOf(InvalidPeerKeyError);
    await expect(sealToPublicKey(new Uint8Array(31), binding('test', 'a'), randomBytes(4))).rejects.toBeInstanceOf(RangeError);
  });
});
