/**
 * Coarse networks: an address cut down to its IPv4 /24 or IPv6 /48. It is what the server keeps
 * of where a device or an event came from (SPEC SECLOG-2): enough for "is this the phone's
 * network?" (SPEC LINK-6) and for a security log a person can read, while not keeping anyone's
 * full address. `requesterKey` is the finer unit that per-client bounds count by (SPEC REVOKE-4).
 * @module
 */
import { isIPv4, isIPv6 } from 'node:net';

/** A parsed address: IPv4 as text (IPv4-mapped IPv6 counts as IPv4), IPv6 as its eight groups. */
type ParsedAddress = { readonly v4: string } | { readonly v6: readonly number[] };

/**
 * The address's network: "203.0.113.0/24" for IPv4 (IPv4-mapped IPv6 counts as IPv4),
 * "2001:db8:1::/48" for IPv6, '' for an empty or unparseable address.
 */
export function coarseNetwork(ip: string): string {
  const parsed = parseAddress(ip);
  if (parsed === null) return '';
  if ('v4' in parsed) return ipv4Network(parsed.v4);
  const [a = 0, b = 0, c = 0] = parsed.v6;
  return `${formatIpv6([a, b, c, 0, 0, 0, 0, 0])}/48`;
}

/**
 * What a requester is counted as, for bounds per client (SPEC REVOKE-4): an IPv4 address as it is
 * (IPv4-mapped IPv6 counts as IPv4), an IPv6 address cut to its /64, '' for an empty or
 * unparseable address. The /64 because one host is routinely handed a whole /64 and could
 * otherwise count as endless requesters, each with its own allowance.
 */
export function requesterKey(ip: string): string {
  const parsed = parseAddress(ip);
  if (parsed === null) return '';
  if ('v4' in parsed) return parsed.v4;
  const [a = 0, b = 0, c = 0, d = 0] = parsed.v6;
  return `${formatIpv6([a, b, c, d, 0, 0, 0, 0])}/64`;
}

/** Whether two addresses are on the same coarse network; never for an unknown address. */
export function sameNetwork(a: string, b: string): boolean {
  const network = coarseNetwork(a);
  return network !== '' && network === coarseNetwork(b);
}

function parseAddress(ip: string): ParsedAddress | null {
  const address = ip.trim();
  if (isIPv4(address)) return { v4: address };
  // A zone ("fe80::1%eth0") names an interface of this machine, not part of the address.
  const withoutZone = address.replace(/%.*$/, '');
  if (!isIPv6(withoutZone)) return null;
  const groups = ipv6Groups(withoutZone);
  if (groups === null) return null;
  // ::ffff:a.b.c.d is an IPv4 client of a dual-stack socket.
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    const high = groups[6] ?? 0;
    const low = groups[7] ?? 0;
    return { v4: `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}` };
  }
  return { v6: groups };
}

function ipv4Network(address: string): string {
  const [a, b, c] = address.split('.').map(Number);
  return `${a}.${b}.${c}.0/24`;
}

/** The eight 16-bit groups of a valid IPv6 address (isIPv6 checked the syntax). */
function ipv6Groups(address: string): number[] | null {
  let text = address.toLowerCase();
  // A trailing dotted quad ("::ffff:192.0.2.1") is two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1] !== undefined) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  const missing = 8 - front.length - back.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return null;
  const groups = [...front, ...new Array<number>(missing).fill(0), ...back];
  return groups.every((group) => Number.isInteger(group) && group >= 0 && group <= 0xffff) ? groups : null;
}

/** RFC 5952 text: lower-case, no leading zeros, the longest run of two or more zero groups as "::". */
function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 0;
  for (let start = 0; start < groups.length; ) {
    if (groups[start] !== 0) {
      start++;
      continue;
    }
    let end = start;
    while (end < groups.length && groups[end] === 0) end++;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const hex = (list: readonly number[]) => list.map((group) => group.toString(16)).join(':');
  if (bestLength < 2) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}
