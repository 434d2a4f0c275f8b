// The start-up warning about the open-file limit (SPEC LIMIT-4).
import { describe, expect, it } from 'vitest';
import { descriptorWarning, openFileLimit } from './descriptor-limit.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
`;

describe('[LIMIT-4] the open-file limit', () => {
  it('reads the soft limit, and "unlimited", from /proc/self/limits', () => {
    expect(openFileLimit(LIMITS)).toBe(1024);
    expect(openFileLimit(LIMITS.replace('1024  ', 'unlimited'))).toBe(Number.POSITIVE_INFINITY);
    expect(openFileLimit('nothing here')).toBeNull();
    // This process's own, on Linux.
    expect(openFileLimit()).toBeGreaterThan(0);
  });

  it('warns when the limit leaves little room beyond the pending sockets, naming what to raise', () => {
    expect(descriptorWarning(1024, 2000)).toContain('MAX_PENDING_CONNECTIONS (2000)');
    expect(descriptorWarning(1024, 2000)).toContain('LimitNOFILE');
    expect(descriptorWarning(65_536, 2000)).toBeNull();
    expect(descriptorWarning(null, 2000)).toBeNull();
  });
});
