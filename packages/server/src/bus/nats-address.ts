/**
 * NATS_URL taken apart for the NATS client, which reads neither credentials nor the scheme from a
 * URL: it keeps only host and port, and upgrades to TLS only when the broker's greeting asks. So
 * `nats://user:password@host` must become a user and a password, `nats://token@host` a token, and
 * `tls://` a demand for TLS that a broker (or anyone in between) cannot talk the node out of.
 * @module
 */

/** What the NATS client is given for one NATS_URL. */
export interface NatsAddress {
  /** host:port, without credentials. */
  readonly server: string;
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
  /** Set for tls://: the connection fails rather than run in plaintext. */
  readonly tls: boolean;
}

/** Splits `url` (nats:// or tls://) at its last '@', so that a password may hold '@' or '/'. */
function split(url: string): { scheme: string; credentials: string | null; rest: string } {
  const schemeEnd = url.indexOf('://');
  if (schemeEnd < 0) throw new TypeError('NATS_URL must be nats://host:port or tls://host:port');
  const scheme = url.slice(0, schemeEnd).toLowerCase();
  const afterScheme = url.slice(schemeEnd + 3);
  const at = afterScheme.lastIndexOf('@');
  return at < 0 ? { scheme, credentials: null, rest: afterScheme } : { scheme, credentials: afterScheme.slice(0, at), rest: afterScheme.slice(at + 1) };
}

/** The client's view of NATS_URL. */
export function natsAddress(url: string): NatsAddress {
  const { scheme, credentials, rest } = split(url);
  if (scheme !== 'nats' && scheme !== 'tls') throw new TypeError('NATS_URL must be nats://host:port or tls://host:port');
  const server = rest.replace(/\/.*$/, '');
  const tls = scheme === 'tls';
  if (credentials === null) return { server, tls };
  const colon = credentials.indexOf(':');
  if (colon < 0) return { server, tls, token: decodeURIComponent(credentials) };
  return { server, tls, user: decodeURIComponent(credentials.slice(0, colon)), pass: decodeURIComponent(credentials.slice(colon + 1)) };
}

/** The URL with any user name, password or token removed, for messages and logs. */
export function withoutCredentials(url: string): string {
  const schemeEnd = url.indexOf('://');
  if (schemeEnd < 0) return url.replace(/^[^@]*@/, '');
  const { rest } = split(url);
  return `${url.slice(0, schemeEnd)}://${rest}`;
}
