import { describe, expect, it } from 'vitest';
import { describePlace, isPrivateAddress, parseNetwork } from './place.js';

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

describe('describePlace with a coarsened network (linked devices, security log)', () => {
  it.each(['127.0.0.0/24', '10.20.30.0/24', '172.16.5.0/24', '192.168.1.0/24', '169.254.0.0/24', 'fd12:3456:789a::/48', 'fe80::/48', '::/48', '::1/128'])(
    '%s is the local network',
    (network) => {
      expect(describePlace(network)).toEqual({ label: 'Local network', remote: false });
    },
  );

  it.each(['203.0.113.0/24', '172.32.0.0/24', '2001:db8:1::/48'])('%s is shown as an internet network', (network) => {
    expect(describePlace(network)).toEqual({ label: `Internet address in ${network}`, remote: true });
  });

  it('reads the address and prefix of a network, and refuses what is not one', () => {
    expect(parseNetwork('203.0.113.0/24')).toEqual({ address: '203.0.113.0', prefix: 24 });
    expect(parseNetwork('2001:db8:1::/48')).toEqual({ address: '2001:db8:1::', prefix: 48 });
    for (const bad of ['203.0.113.0', '203.0.113.0/33', '2001:db8::/129', 'abc/24', '10.0.0.0/', '/24', '10.0.0.0/24 ']) {
      expect(parseNetwork(bad)).toBeNull();
    }
  });

  it('text that is neither an address nor a network is shown as it is, as remote', () => {
    expect(describePlace('somewhere/else')).toEqual({ label: 'Internet address somewhere/else', remote: true });
  });
});
