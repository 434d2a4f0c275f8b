import { describe, expect, it } from 'vitest';
import { hashPin, pinMatches } from './pin-hash.js';

describe('[PIN-5] PIN hash', () => {
  it('is an Argon2id PHC string with the OWASP parameters, salted, and not the PIN', async () => {
    const first = await hashPin('482913');
    const second = await hashPin('482913');
    expect(first).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(first).not.toContain('482913');
    // A fresh salt each time: equal PINs of two accounts do not show as equal hashes.
    expect(second).not.toBe(first);
  });

  it('matches the right PIN only, and a damaged hash matches nothing', async () => {
    const phc = await hashPin('482913');
    expect(await pinMatches(phc, '482913')).toBe(true);
    expect(await pinMatches(phc, '482914')).toBe(false);
    expect(await pinMatches('not a hash', '482913')).toBe(false);
    expect(await pinMatches(phc.slice(0, -4), '482913')).toBe(false);
  });
});
