import { describe, expect, it } from 'vitest';
import { describePlace, isPrivateAddress } from './place.js';

describe('describePlace', () => {
  it.each(['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.20', '169.254.3.4', '::1', '::ffff:192.168.0.7', 'fd12:3456::1', 'fe80::1'])(
    '%s is the local network',
    (address) => {
      expect(isPrivateAddress(address)).toBe(true);
      expect(describePlace(address)).toEqual({ label: 'Local network', remote: false });
    },
  );

  it.each(['8.8.8.8', '172.32.0.1', '100.64.0.1', '2001:db8::1', '::ffff:203.0.113.9'])('%s is shown as an internet address', (address) => {
    expect(describePlace(address)).toEqual({ label: `Internet address ${address}`, remote: true });
  });

  it('an unknown address is unknown, and warned about', () => {
    expect(describePlace('')).toEqual({ label: 'Unknown', remote: true });
  });
});
