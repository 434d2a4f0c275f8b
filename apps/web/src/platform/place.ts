/**
 * Where a device or an event comes from, in words. There is no location database: a private,
 * loopback or link-local address or network is "Local network" (on the same network as the
 * server), anything else is shown as the address or coarse network itself, so that an unexpected
 * one stands out. The server hands out either a single address (a link request) or a network
 * coarsened to its IPv4 /24 or IPv6 /48 ("203.0.113.0/24": linked devices, the security log).
 * @module
 */

/** What the screens show for an address or network. */
export interface Place {
  readonly label: string;
  /** True outside private networks. */
  readonly remote: boolean;
}

/**
 * "Local network" for private addresses and networks; "Internet address 203.0.113.7" for an
 * address and "Internet address in 203.0.113.0/24" for a network otherwise; "Unknown" for ''.
 */
export function describePlace(addressOrNetwork: string): Place {
  const value = addressOrNetwork.trim();
  if (value === '') return { label: 'Unknown', remote: true };
  const network = parseNetwork(value);
  if (network !== null) {
    if (isPrivateAddress(network.address) || network.address === '::') return { label: 'Local network', remote: false };
    return { label: `Internet address in ${value}`, remote: true };
  }
  if (isPrivateAddress(value)) return { label: 'Local network', remote: false };
  return { label: `Internet address ${value}`, remote: true };
}

/**
 * Splits "203.0.113.0/24" or "2001:db8:1::/48" into its address and prefix length; null for
 * anything else (a bare address, or text that is not a network). "::/48" is where the server puts
 * the IPv6 loopback ::1 once coarsened, so callers treat "::" as local.
 */
export function parseNetwork(value: string): { readonly address: string; readonly prefix: number } | null {
  const match = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(value);
  if (match === null) return null;
  const [, address = '', digits = ''] = match;
  const prefix = Number(digits);
  const v4 = /^\d+\.\d+\.\d+\.\d+$/.test(address);
  if (prefix > (v4 ? 32 : 128)) return null;
  if (!v4 && !address.includes(':')) return null;
  return { address, prefix };
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
