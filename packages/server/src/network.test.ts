import { describe, expect, it } from 'vitest';
import { coarseNetwork, requesterKey, sameNetwork } from './network.js';

describe('[SECLOG-2] coarse networks', () => {
  it.each([
    ['203.0.113.77', '203.0.113.0/24'],
    ['10.1.2.3', '10.1.2.0/24'],
    [' 198.51.100.1 ', '198.51.100.0/24'],
    ['2001:db8:1:2::5', '2001:db8:1::/48'],
    ['2001:0DB8:0001:ffff:0:0:0:1', '2001:db8:1::/48'],
    ['2001:db8::1', '2001:db8::/48'],
    ['fe80::1%eth0', 'fe80::/48'],
    ['::1', '::/48'],
    ['::ffff:203.0.113.9', '203.0.113.0/24'],
    ['::ffff:cb00:7109', '203.0.113.0/24'],
    ['::ffff:127.0.0.1', '127.0.0.0/24'],
    ['', ''],
    ['not an address', ''],
    ['203.0.113', ''],
    ['256.1.1.1', ''],
    ['2001:db8:::1', ''],
    ['1:2:3:4:5:6:7:8:9', ''],
  ])('%s is on %s', (ip, network) => {
    expect(coarseNetwork(ip)).toBe(network);
  });
});

describe('[LINK-6] same network', () => {
  it('compares the IPv4 /24 and the IPv6 /48', () => {
    expect(sameNetwork('203.0.113.5', '203.0.113.250')).toBe(true);
    expect(sameNetwork('203.0.113.5', '203.0.114.5')).toBe(false);
    expect(sameNetwork('2001:db8:1:a::1', '2001:db8:1:b::2')).toBe(true);
    expect(sameNetwork('2001:db8:1::1', '2001:db8:2::1')).toBe(false);
  });

  it('treats an IPv4-mapped IPv6 address as the IPv4 address', () => {
    expect(sameNetwork('::ffff:192.0.2.10', '192.0.2.99')).toBe(true);
    expect(sameNetwork('::ffff:192.0.2.10', '192.0.3.10')).toBe(false);
  });

  it('never says "same" for an unknown address', () => {
    expect(sameNetwork('', '')).toBe(false);
    expect(sameNetwork('garbage', 'garbage')).toBe(false);
    expect(sameNetwork('', '203.0.113.5')).toBe(false);
  });
});

describe('[REVOKE-4] requester keys', () => {
  it.each([
    ['203.0.113.77', '203.0.113.77'],
    [' 127.0.0.2 ', '127.0.0.2'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['2001:db8:1:2::5', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8::/64'],
    ['fe80::1%eth0', 'fe80::/64'],
    ['::1', '::/64'],
    ['', ''],
    ['not an address', ''],
  ])('%s counts as %s', (ip, key) => {
    expect(requesterKey(ip)).toBe(key);
  });

  it('one IPv6 host cannot count as many requesters by changing the low 64 bits', () => {
    expect(requesterKey('2001:db8:1:2:a:b:c:d')).toBe(requesterKey('2001:db8:1:2::1'));
    expect(requesterKey('2001:db8:1:3::1')).not.toBe(requesterKey('2001:db8:1:2::1'));
  });
});
