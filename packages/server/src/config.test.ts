import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { MIN_PROTOCOL_VERSION, PROTOCOL_VERSION } from '@pairwise/protocol/version';
import { ConfigError, parseConfig } from './config.js';

describe('[OPS-1] configuration', () => {
  it('has working defaults: SQLite in ./data, port 8080, open registration, 4 companions', () => {
    const config = parseConfig({}, '/srv/pairwise');
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      publicOrigin: 'http://localhost:8080',
      dataDir: '/srv/pairwise/data',
      databaseUrl: null,
      natsUrl: null,
      natsSubject: 'pairwise.events',
      registration: 'open',
      maxCompanions: 4,
      testClock: false,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ PUBLIC_ORIGIN: 'chat.example.org' }, /PUBLIC_ORIGIN/],
    [{ PUBLIC_ORIGIN: 'https://chat.example.org/app' }, /PUBLIC_ORIGIN/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL/],
    [{ NATS_URL: 'http://nats:4222', DATABASE_URL: 'postgres://db/p' }, /NATS_URL/],
    [{ NATS_URL: 'nats://nats:4222' }, /NATS_URL joins this node to others.*DATABASE_URL/],
    [{ NATS_SUBJECT: 'pairwise.>' }, /NATS_SUBJECT/],
    [{ TRUSTED_PROXIES: 'proxy.local' }, /TRUSTED_PROXIES/],
    [{ TRUSTED_PROXIES: '10.0.0.0/99' }, /TRUSTED_PROXIES/],
    [{ HOST: 'not a host!' }, /HOST/],
    [{ REGISTRATION: 'closed' }, /REGISTRATION/],
    [{ REGISTRATION: 'invite' }, /INVITE_CODES/],
    [{ INVITE_CODES: 'short' }, /INVITE_CODES/],
    [{ MAX_COMPANIONS: '0' }, /MAX_COMPANIONS/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ MAX_PENDING_CONNECTIONS: '0' }, /MAX_PENDING_CONNECTIONS/],
    [{ MAX_PENDING_CONNECTIONS_PER_ADDRESS: 'lots' }, /MAX_PENDING_CONNECTIONS_PER_ADDRESS/],
    [{ MAX_PENDING_CONNECTIONS_PER_ADDRESS: '50', MAX_PENDING_CONNECTIONS: '10' }, /MAX_PENDING_CONNECTIONS_PER_ADDRESS must not be above/],
    [{ INBOX_MAX_MESSAGES: '-1' }, /INBOX_MAX_MESSAGES/],
    [{ INBOX_MAX_MIB: '1.5' }, /INBOX_MAX_MIB/],
    [{ INBOX_MAX_MESSAGES_PER_SENDER: '300000' }, /INBOX_MAX_MESSAGES_PER_SENDER/],
    [{ INBOX_MAX_MIB_PER_SENDER: '1000' }, /INBOX_MAX_MIB_PER_SENDER/],
    [{ REGISTRATIONS_PER_HOUR_PER_ADDRESS: '0' }, /REGISTRATIONS_PER_HOUR_PER_ADDRESS/],
  ])('refuses %o with a message naming the setting', (env, name) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(name);
  });

  it('reads every setting', () => {
    const config = parseConfig({
      HOST: '0.0.0.0',
      PORT: '443',
      PUBLIC_ORIGIN: 'https://chat.example.org/',
      DATA_DIR: '/var/lib/pairwise',
      DATABASE_URL: 'postgres://pairwise@db/pairwise',
      NATS_URL: 'nats://bus.internal:4222',
      NATS_SUBJECT: 'chat-example.events',
      TRUSTED_PROXIES: '10.0.0.1, 192.168.0.0/16',
      REGISTRATION: 'invite',
      INVITE_CODES: 'welcome-friends,second-code',
      MAX_COMPANIONS: '2',
      LOG_LEVEL: 'warn',
      MAX_PENDING_CONNECTIONS_PER_ADDRESS: '8',
      MAX_PENDING_CONNECTIONS: '500',
      INBOX_MAX_MESSAGES: '1000',
      INBOX_MAX_MIB: '64',
      INBOX_MAX_MESSAGES_PER_SENDER: '100',
      INBOX_MAX_MIB_PER_SENDER: '8',
      REGISTRATIONS_PER_HOUR_PER_ADDRESS: '2',
    });
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 443,
      publicOrigin: 'https://chat.example.org',
      dataDir: '/var/lib/pairwise',
      databaseUrl: 'postgres://pairwise@db/pairwise',
      natsUrl: 'nats://bus.internal:4222',
      natsSubject: 'chat-example.events',
      trustedProxies: ['10.0.0.1', '192.168.0.0/16'],
      registration: 'invite',
      inviteCodes: ['welcome-friends', 'second-code'],
      maxCompanions: 2,
      logLevel: 'warn',
      limits: {
        pendingConnectionsPerAddress: 8,
        pendingConnections: 500,
        inboxMaxMessages: 1000,
        inboxMaxBytes: 64 * 1024 * 1024,
        inboxMaxMessagesPerSender: 100,
        inboxMaxBytesPerSender: 8 * 1024 * 1024,
        registrationsPerHourPerAddress: 2,
      },
    });
  });

  it('[LIMIT-3] [LIMIT-4] [LIMIT-8] has the documented default limits', () => {
    expect(parseConfig({}).limits).toEqual({
      pendingConnectionsPerAddress: 32,
      pendingConnections: 2000,
      inboxMaxMessages: 200_000,
      inboxMaxBytes: 512 * 1024 * 1024,
      inboxMaxMessagesPerSender: 50_000,
      inboxMaxBytesPerSender: 128 * 1024 * 1024,
      registrationsPerHourPerAddress: 10,
    });
  });
});

describe('[OPS-4] metrics settings', () => {
  it('are off by default, on loopback when on, and name the node after its host', () => {
    expect(parseConfig({})).toMatchObject({ metricsPort: null, metricsHost: '127.0.0.1', nodeName: hostname() || 'pairwise' });
    expect(parseConfig({ METRICS_PORT: '' }).metricsPort).toBeNull();
  });

  it('reads METRICS_PORT, METRICS_HOST and NODE_NAME', () => {
    expect(parseConfig({ METRICS_PORT: '9464', METRICS_HOST: '10.0.0.5', NODE_NAME: 'node-2.eu_west' })).toMatchObject({
      metricsPort: 9464,
      metricsHost: '10.0.0.5',
      nodeName: 'node-2.eu_west',
    });
  });

  it.each([
    [{ METRICS_PORT: 'nine' }, /^METRICS_PORT /],
    [{ METRICS_PORT: '0' }, /^METRICS_PORT /],
    [{ METRICS_PORT: '65536' }, /^METRICS_PORT /],
    [{ METRICS_PORT: '8080' }, /^METRICS_PORT must differ from PORT/],
    [{ METRICS_PORT: '9000', PORT: '9000' }, /^METRICS_PORT must differ from PORT/],
    [{ METRICS_HOST: 'not a host!' }, /^METRICS_HOST /],
    [{ NODE_NAME: 'node 1' }, /^NODE_NAME /],
    [{ NODE_NAME: '-node' }, /^NODE_NAME /],
    [{ NODE_NAME: 'n'.repeat(64) }, /^NODE_NAME /],
  ])('refuses %o with a message naming the setting', (env, name) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(name);
  });
});

describe('[VERSION-2] MIN_PROTOCOL_VERSION', () => {
  it('defaults to the built-in minimum and may raise it up to the server’s own version', () => {
    expect(parseConfig({}).minProtocolVersion).toBe(MIN_PROTOCOL_VERSION);
    expect(parseConfig({ MIN_PROTOCOL_VERSION: String(PROTOCOL_VERSION) }).minProtocolVersion).toBe(PROTOCOL_VERSION);
  });

  it.each([
    String(MIN_PROTOCOL_VERSION - 1),
    String(PROTOCOL_VERSION + 1),
    '1.5',
    'two',
    '-1',
    '1e0',
  ])('refuses %s with a message naming MIN_PROTOCOL_VERSION', (value) => {
    expect(() => parseConfig({ MIN_PROTOCOL_VERSION: value })).toThrow(ConfigError);
    expect(() => parseConfig({ MIN_PROTOCOL_VERSION: value })).toThrow(/^MIN_PROTOCOL_VERSION /);
  });

  it('goes one above the server’s version only under the test hook', () => {
    const ahead = String(PROTOCOL_VERSION + 1);
    expect(parseConfig({ MIN_PROTOCOL_VERSION: ahead, PAIRWISE_TEST_VERSION_AHEAD: '1' }).minProtocolVersion).toBe(PROTOCOL_VERSION + 1);
    expect(() => parseConfig({ MIN_PROTOCOL_VERSION: String(PROTOCOL_VERSION + 2), PAIRWISE_TEST_VERSION_AHEAD: '1' })).toThrow(
      /MIN_PROTOCOL_VERSION/,
    );
  });
});
