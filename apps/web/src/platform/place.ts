/**
 * Where a link request comes from, in words. There is no location database: a private, loopback
 * or link-local address is "Local network" (the computer is on the same network as the server),
 * anything else is shown as the address itself, so that an unexpected one stands out.
 * @module
 */

/** What the confirmation screen shows for an IP address. */
export interface Place {
  readonly label: string;
  /** True for addresses outside private networks: the phone then warns to check the computer. */
  readonly remote: boolean;
}

/** "Local network" for private addresses; "Internet address 203.0.113.7" otherwise. */
export function describePlace(ipAddress: string): Place {
  if (ipAddress === '') return { label: 'Unknown', remote: true };
  if (isPrivateAddress(ipAddress)) return { label: 'Local network', remote: false };
  return { label: `Internet address ${ipAddress}`, remote: true };
}

/** RFC 1918, loopback, link-local and unique-local addresses, IPv4-mapped IPv6 included. */
export function isPrivateAddress(address: string): boolean {
  const lower = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  const v4 = mapped?.[1] ?? (/^\d+\.\d+\.\d+\.\d+$/.test(lower) ? lower : null);
  if (v4 !== null) {
    const [a = -1, b = -1] = v4.split('.').map(Number);
    return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
  }
  return lower === '::1' || /^f[cd][0-9a-f]{2}:/.test(lower) || /^fe[89ab][0-9a-f]:/.test(lower);
}
