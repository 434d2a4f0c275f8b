/**
 * Server configuration, parsed once from the environment into a frozen, typed object. A bad
 * setting stops the server at start with a message naming it (SPEC OPS-1); nothing else reads
 * `process.env`.
 * @module
 */
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { DEFAULT_MAX_COMPANIONS } from '@pairwise/protocol/limits';
import { MIN_PROTOCOL_VERSION, PROTOCOL_VERSION } from '@pairwise/protocol/version';

/** Who may create accounts. */
export const RegistrationMode = { Open: 'open', Invite: 'invite' } as const;
/** One of `RegistrationMode`. */
export type RegistrationMode = (typeof RegistrationMode)[keyof typeof RegistrationMode];

/** The server's settings. */
export interface Config {
  readonly host: string;
  readonly port: number;
  /** The origin users reach the server at; device signatures and link QR codes are bound to it. */
  readonly publicOrigin: string;
  readonly dataDir: string;
  /** PostgreSQL URL, or `null` for the embedded SQLite database in `dataDir`. */
  readonly databaseUrl: string | null;
  /**
   * NATS URL of the Bus between several nodes (which then share `databaseUrl`), or `null` for
   * the in-process Bus of a single node.
   */
  readonly natsUrl: string | null;
  /** The NATS subject this installation's nodes share (one per installation on a shared broker). */
  readonly natsSubject: string;
  /** Proxy addresses whose X-Forwarded-For is believed; empty: none. */
  readonly trustedProxies: readonly string[];
  readonly registration: RegistrationMode;
  readonly inviteCodes: readonly string[];
  readonly maxCompanions: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
  /**
   * The oldest protocol version a client may speak (SPEC VERSION-2): the built-in minimum unless
   * the operator raised it to refuse older apps.
   */
  readonly minProtocolVersion: number;
  /** Limits against one client starving the others (SPEC LIMIT-*); see docs/threat-model.md. */
  readonly limits: ServerLimits;
  /** NODE_NAME: the `node` label on every metric, telling this node from the others (SPEC OPS-4). */
  readonly nodeName: string;
  /**
   * METRICS_PORT: the port of the separate listener for /metrics, /healthz and /readyz, or `null`
   * for none (the default). Never the public port: the metrics are for the operator only.
   */
  readonly metricsPort: number | null;
  /** METRICS_HOST: where that listener listens; the loopback interface unless the operator widens it. */
  readonly metricsHost: string;
  /** Where the built web app is; served at "/" when it holds an index.html. */
  readonly webRoot: string | null;
  /**
   * Test hook: a clock that POST /__test__/clock can move forward. Never set it in production:
   * anyone who can reach the server could then expire tokens and devices at will.
   */
  readonly testClock: boolean;
}

const MIB = 1024 * 1024;

/** The limits an operator may set, each with its environment variable and default. */
export interface ServerLimits {
  /** MAX_PENDING_CONNECTIONS_PER_ADDRESS: sockets not yet a device from one address (SPEC LIMIT-4). */
  readonly pendingConnectionsPerAddress: number;
  /** MAX_PENDING_CONNECTIONS: sockets not yet a device in all (SPEC LIMIT-4). */
  readonly pendingConnections: number;
  /** INBOX_MAX_MESSAGES / INBOX_MAX_MIB: undelivered rows in one device's inbox from other accounts (SPEC LIMIT-3). */
  readonly inboxMaxMessages: number;
  readonly inboxMaxBytes: number;
  /** INBOX_MAX_MESSAGES_PER_SENDER / INBOX_MAX_MIB_PER_SENDER: the same, from one sending account (its own included). */
  readonly inboxMaxMessagesPerSender: number;
  readonly inboxMaxBytesPerSender: number;
  /** REGISTRATIONS_PER_HOUR_PER_ADDRESS: new accounts from one address in an hour (SPEC LIMIT-8). */
  readonly registrationsPerHourPerAddress: number;
}

/** Defaults of `ServerLimits`, as documented in docs/threat-model.md and the README. */
export const DEFAULT_LIMITS: ServerLimits = Object.freeze({
  pendingConnectionsPerAddress: 32,
  pendingConnections: 2000,
  inboxMaxMessages: 200_000,
  inboxMaxBytes: 512 * MIB,
  inboxMaxMessagesPerSender: 50_000,
  inboxMaxBytesPerSender: 128 * MIB,
  registrationsPerHourPerAddress: 10,
});

/** A setting that could not be used; the message names it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function limits(env: NodeJS.ProcessEnv): ServerLimits {
  const d = DEFAULT_LIMITS;
  const result: ServerLimits = {
    pendingConnectionsPerAddress: integer(env, 'MAX_PENDING_CONNECTIONS_PER_ADDRESS', d.pendingConnectionsPerAddress, 1, 1_000_000),
    pendingConnections: integer(env, 'MAX_PENDING_CONNECTIONS', d.pendingConnections, 1, 1_000_000),
    inboxMaxMessages: integer(env, 'INBOX_MAX_MESSAGES', d.inboxMaxMessages, 1, 100_000_000),
    inboxMaxBytes: integer(env, 'INBOX_MAX_MIB', d.inboxMaxBytes / MIB, 1, 1_000_000) * MIB,
    inboxMaxMessagesPerSender: integer(env, 'INBOX_MAX_MESSAGES_PER_SENDER', d.inboxMaxMessagesPerSender, 1, 100_000_000),
    inboxMaxBytesPerSender: integer(env, 'INBOX_MAX_MIB_PER_SENDER', d.inboxMaxBytesPerSender / MIB, 1, 1_000_000) * MIB,
    registrationsPerHourPerAddress: integer(env, 'REGISTRATIONS_PER_HOUR_PER_ADDRESS', d.registrationsPerHourPerAddress, 1, 1_000_000),
  };
  if (result.pendingConnectionsPerAddress > result.pendingConnections) {
    throw new ConfigError('MAX_PENDING_CONNECTIONS_PER_ADDRESS must not be above MAX_PENDING_CONNECTIONS');
  }
  if (result.inboxMaxMessagesPerSender > result.inboxMaxMessages || result.inboxMaxBytesPerSender > result.inboxMaxBytes) {
    throw new ConfigError('INBOX_MAX_MESSAGES_PER_SENDER and INBOX_MAX_MIB_PER_SENDER must not be above INBOX_MAX_MESSAGES and INBOX_MAX_MIB');
  }
  return Object.freeze(result);
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'silent'] as const;

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/**
 * MIN_PROTOCOL_VERSION: an operator may only raise the built-in minimum, and never above the
 * version this server speaks (no client could connect). The test hook PAIRWISE_TEST_VERSION_AHEAD=1
 * allows one above it, so that tests can watch today's clients being refused as they would be by
 * a newer server; never set it in production.
 */
function minProtocolVersion(env: NodeJS.ProcessEnv): number {
  const raw = env.MIN_PROTOCOL_VERSION?.trim();
  if (raw === undefined || raw === '') return MIN_PROTOCOL_VERSION;
  const highest = PROTOCOL_VERSION + (env.PAIRWISE_TEST_VERSION_AHEAD === '1' ? 1 : 0);
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < MIN_PROTOCOL_VERSION || value > highest) {
    throw new ConfigError(
      `MIN_PROTOCOL_VERSION must be a whole number from ${MIN_PROTOCOL_VERSION} (the built-in minimum) to ${highest} ` +
        `(the protocol version this server speaks), got "${env.MIN_PROTOCOL_VERSION}"`,
    );
  }
  return value;
}

/** A setting naming an address or host name to listen on. */
function listenHost(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const host = env[name]?.trim() || fallback;
  if (isIP(host) === 0 && !/^[a-z0-9.-]+$/i.test(host)) {
    throw new ConfigError(`${name} must be an IP address or a host name, got "${host}"`);
  }
  return host;
}

/**
 * METRICS_PORT, off when unset. Port 0 (any free port) is refused: a scraper could not find it.
 * It may not be PORT: the metrics must never be served where the public reaches.
 */
function metricsPort(env: NodeJS.ProcessEnv, port: number): number | null {
  if (env.METRICS_PORT === undefined || env.METRICS_PORT.trim() === '') return null;
  const value = integer(env, 'METRICS_PORT', 0, 1, 65535);
  if (value === port) throw new ConfigError(`METRICS_PORT must differ from PORT (${port}): the metrics are not for the public port`);
  return value;
}

/** NODE_NAME, the host name by default; a label value, so short and plain. */
function nodeName(env: NodeJS.ProcessEnv): string {
  const raw = env.NODE_NAME?.trim();
  if (raw === undefined || raw === '') return hostname() || 'pairwise';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(raw)) {
    throw new ConfigError(`NODE_NAME must be 1 to 63 letters, digits, ".", "-" and "_", got "${raw}"`);
  }
  return raw;
}

function list(env: NodeJS.ProcessEnv, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

function origin(raw: string, name: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an origin such as https://chat.example.org, got "${raw}"`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== raw.replace(/\/$/, '')) {
    throw new ConfigError(`${name} must be just scheme, host and port (https://chat.example.org), got "${raw}"`);
  }
  return url.origin;
}

/** Parses the environment; throws `ConfigError` naming the first bad setting. */
export function parseConfig(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): Config {
  const port = integer(env, 'PORT', 8080, 0, 65535);
  const host = env.HOST?.trim() || '127.0.0.1';
  if (isIP(host) === 0 && !/^[a-z0-9.-]+$/i.test(host)) {
    throw new ConfigError(`HOST must be an IP address or a host name, got "${host}"`);
  }
  const publicOrigin = origin(env.PUBLIC_ORIGIN?.trim() || `http://localhost:${port}`, 'PUBLIC_ORIGIN');
  const databaseUrl = env.DATABASE_URL?.trim() || null;
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// URL (leave it unset for the embedded SQLite)');
  }
  const natsUrl = env.NATS_URL?.trim() || null;
  if (natsUrl !== null && !/^(nats|tls):\/\/[^\s,]+$/.test(natsUrl)) {
    throw new ConfigError('NATS_URL must be a nats:// or tls:// URL (leave it unset for a single node)');
  }
  if (natsUrl !== null && databaseUrl === null) {
    throw new ConfigError('NATS_URL joins this node to others, which must share one database: set DATABASE_URL too');
  }
  const natsSubject = env.NATS_SUBJECT?.trim() || 'pairwise.events';
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(natsSubject) || natsSubject.length > 128) {
    throw new ConfigError(`NATS_SUBJECT must be dot-separated letters, digits, "-" and "_" (no wildcards), got "${natsSubject}"`);
  }
  const trustedProxies = list(env, 'TRUSTED_PROXIES');
  for (const proxy of trustedProxies) {
    const [address, bits] = proxy.split('/');
    const maxBits = isIP(address ?? '') === 6 ? 128 : 32;
    if (!address || isIP(address) === 0 || (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > maxBits))) {
      throw new ConfigError(`TRUSTED_PROXIES must be IP addresses or CIDR ranges, got "${proxy}"`);
    }
  }
  const registration = (env.REGISTRATION?.trim() || RegistrationMode.Open) as RegistrationMode;
  if (!Object.values(RegistrationMode).includes(registration)) {
    throw new ConfigError(`REGISTRATION must be "open" or "invite", got "${env.REGISTRATION}"`);
  }
  const inviteCodes = list(env, 'INVITE_CODES');
  if (registration === RegistrationMode.Invite && inviteCodes.length === 0) {
    throw new ConfigError('REGISTRATION=invite needs INVITE_CODES (comma-separated codes)');
  }
  if (inviteCodes.some((code) => code.length < 8)) {
    throw new ConfigError('INVITE_CODES must each be at least 8 characters');
  }
  const logLevel = (env.LOG_LEVEL?.trim() || 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  }
  return Object.freeze({
    host,
    port,
    publicOrigin,
    dataDir: resolve(cwd, env.DATA_DIR?.trim() || 'data'),
    databaseUrl,
    natsUrl,
    natsSubject,
    trustedProxies: Object.freeze(trustedProxies),
    registration,
    inviteCodes: Object.freeze(inviteCodes),
    maxCompanions: integer(env, 'MAX_COMPANIONS', DEFAULT_MAX_COMPANIONS, 1, 16),
    logLevel,
    minProtocolVersion: minProtocolVersion(env),
    limits: limits(env),
    nodeName: nodeName(env),
    metricsPort: metricsPort(env, port),
    metricsHost: listenHost(env, 'METRICS_HOST', '127.0.0.1'),
    // The built web app; by default where `npm run build` puts it, relative to the working directory.
    webRoot: resolve(cwd, env.WEB_ROOT?.trim() || 'apps/web/dist'),
    testClock: env.PAIRWISE_TEST_CLOCK === '1',
  });
}
