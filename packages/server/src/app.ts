/**
 * The server: Fastify for HTTP, ws for the device WebSocket at /ws, wired to a Store and a Bus.
 * `createServer` builds it without listening, so tests can start it on a random port.
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import websocket from '@fastify/websocket';
import { WireError } from '@pairwise/protocol/errors';
import { MAX_FRAME_BYTES } from '@pairwise/protocol/limits';
import { PROTOCOL_VERSION } from '@pairwise/protocol/version';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { readAssetManifest } from './asset-manifest.js';
import { InProcessBus } from './bus/in-process-bus.js';
import type { Bus } from './bus/bus.js';
import { AdjustableClock, systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import type { ServerContext } from './context.js';
import { AckWriter } from './ack-writer.js';
import { createGuards } from './guards.js';
import { registerHealthRoutes } from './health.js';
import { MeteredBus } from './metered-bus.js';
import { Metrics } from './metrics.js';
import type { Store } from './store/store.js';
import { registerHttpLogOut } from './http-log-out.js';
import { registerSecurityHeaders } from './security-headers.js';
import { startSweeper, sweep } from './sweeper.js';
import { requesterKey } from './network.js';
import { Admission, CLOSE_TRY_AGAIN_LATER } from './ws/admission.js';
import { Connection } from './ws/connection.js';
import { Hub } from './ws/hub.js';
import { Keepalive } from './ws/keepalive.js';

/** An HTTP connection idle this long is closed (SPEC LIMIT-4). */
const IDLE_HTTP_CONNECTION_MS = 30_000;

/** How often the server pings each socket; one missed answer closes it. */
const KEEPALIVE_INTERVAL_MS = 30_000;

/** What the server is built from; everything but the config has a default. */
export interface ServerParts {
  readonly config: Config;
  readonly store: Store;
  readonly bus?: Bus;
  readonly clock?: Clock;
  /** The process's logger; one is made from the config's level otherwise. */
  readonly logger?: FastifyBaseLogger;
  /** Sweep interval in ms; 0 turns the sweeper off (tests call `sweep` themselves). */
  readonly sweepIntervalMs?: number;
  /** The metrics; a set of its own, labelled with NODE_NAME, otherwise. */
  readonly metrics?: Metrics;
}

/** A built server and its context (for tests and graceful shutdown). */
export interface PairwiseServer {
  readonly app: FastifyInstance;
  readonly context: ServerContext;
  /** Stops accepting, closes every socket with "going away", then the store and the bus. */
  close(): Promise<void>;
}

/** Builds the server. Call `app.listen` to serve. */
export async function createServer(parts: ServerParts): Promise<PairwiseServer> {
  const { config, store } = parts;
  const metrics = parts.metrics ?? new Metrics({ node: config.nodeName });
  const bus = new MeteredBus(parts.bus ?? new InProcessBus(), metrics);
  const app = Fastify({
    ...(parts.logger ? { loggerInstance: parts.logger } : { logger: { level: config.logLevel } }),
    // Requests are not logged one by one: URLs, addresses and headers are metadata we do not keep.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: config.trustedProxies.length > 0 ? [...config.trustedProxies] : false,
    bodyLimit: 64 * 1024,
    // An HTTP connection that sends nothing for this long is closed: idle sockets that never even
    // ask for the WebSocket upgrade cannot pile up either (SPEC LIMIT-4). Upgraded sockets have
    // their own keepalive and deadline (ws clears this timeout on upgrade).
    connectionTimeout: IDLE_HTTP_CONNECTION_MS,
  });
  const hub = new Hub();
  const clock = parts.clock ?? (config.testClock ? new AdjustableClock() : systemClock);
  const context: ServerContext = { config, store, bus, clock, hub, guards: createGuards(config, clock), acks: new AckWriter(store, app.log), log: app.log, metrics };
  hub.attach(context);
  metrics.watch({ inboxDepth: () => store.countInbox(), openConnections: () => hub.openConnections, authenticatedDevices: () => hub.authenticatedDevices });
  store.observeCommits((sends, seconds) => metrics.committed(sends, seconds));
  // This node holds no sockets yet: temporary sessions it served before a restart start their
  // minute now (SPEC TEMP-1).
  await store.markTemporaryDevicesDisconnected(clock.now());
  // First, so that every route and plugin registered below answers with them (HEADERS-1).
  registerSecurityHeaders(app, config.publicOrigin);

  await app.register(websocket, { options: { maxPayload: MAX_FRAME_BYTES } });

  // Keepalive: a socket that does not answer a ping within one interval is gone (ws/keepalive.ts).
  const keepalive = new Keepalive();
  keepalive.start(KEEPALIVE_INTERVAL_MS);

  const admission = new Admission({ perAddress: config.limits.pendingConnectionsPerAddress, total: config.limits.pendingConnections });
  // Before the upgrade, so that a refused socket costs an HTTP answer and nothing more (SPEC LIMIT-4, LIMIT-6).
  const admit = (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    // A browser always names the page that opens a socket: only our own app may. Clients that
    // are not browsers send no Origin, and prove themselves by their device keys all the same.
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== config.publicOrigin) {
      void reply.code(403).send({ code: 'FORBIDDEN_ORIGIN', message: WireError.FORBIDDEN_ORIGIN.message });
      return;
    }
    // request.ip: the socket's peer, or X-Forwarded-For's when the peer is one of TRUSTED_PROXIES.
    if (!admission.mayOpen(requesterKey(request.ip))) {
      void reply.code(429).header('retry-after', '10').send({ code: 'RATE_LIMITED', message: `${WireError.RATE_LIMITED.message}: too many connections from this address` });
      return;
    }
    done();
  };

  app.get('/ws', { websocket: true, preValidation: admit }, (socket, request) => {
    keepalive.track(socket);
    const connection = new Connection(socket, context, {
      ipAddress: request.ip,
      userAgent: request.headers['user-agent'] ?? '',
    });
    hub.opened(connection);
    socket.on('message', (data, isBinary) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      void connection.receive(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), isBinary);
    });
    socket.on('close', () => hub.remove(connection));
    socket.on('error', () => hub.remove(connection));
    if (!admission.admit(connection, requesterKey(request.ip))) {
      connection.close(CLOSE_TRY_AGAIN_LATER, 'TRY_AGAIN_LATER');
      return;
    }
    connection.onSignedIn = () => admission.release(connection);
    socket.on('close', () => admission.release(connection));
    connection.start();
  });

  registerHttpLogOut(app, context);
  // The built app's manifest, read once: the files do not change under a running server (SRI-2).
  const assets = readAssetManifest(config.webRoot);
  if ('problem' in assets && config.webRoot !== null && existsSync(join(config.webRoot, 'index.html'))) {
    app.log.warn({ problem: assets.problem }, 'the web app has no usable asset manifest');
  }
  app.get('/api/version', () => ({
    protocolVersion: PROTOCOL_VERSION,
    minProtocolVersion: config.minProtocolVersion,
    appBuild: 'manifest' in assets ? assets.manifest.build : null,
  }));
  app.get('/api/assets', (_request, reply) => {
    if ('manifest' in assets) return assets.manifest;
    reply.code(404);
    return { code: 'NO_BUILT_APP', message: assets.problem };
  });
  app.get('/api/health', () => ({ ok: true }));
  // Also on the metrics listener; here for load balancers that only reach the public port (SPEC OPS-2, OPS-3).
  registerHealthRoutes(app, context);
  await registerWebApp(app, config.webRoot);
  if (clock instanceof AdjustableClock && config.testClock) {
    app.post<{ Body: { advanceMs?: unknown } }>('/__test__/clock', (request) => {
      clock.advance(Number(request.body?.advanceMs));
      return { now: clock.now() };
    });
    app.post('/__test__/sweep', async () => {
      await sweep(context);
      return { ok: true };
    });
  }

  const stopSweeper = parts.sweepIntervalMs === 0 ? () => {} : startSweeper(context, parts.sweepIntervalMs);
  return {
    app,
    context,
    async close() {
      stopSweeper();
      keepalive.stop();
      hub.closeAll(1001, 'server shutting down');
      hub.detach();
      await app.close();
      // What devices acknowledged is written before the store goes.
      await context.acks.flush();
      await bus.close();
      await store.close();
    },
  };
}

/** Serves the built web app when there is one; until then, a page that says what is running. */
async function registerWebApp(app: FastifyInstance, webRoot: string | null): Promise<void> {
  const index = webRoot === null ? null : join(webRoot, 'index.html');
  if (webRoot !== null && index !== null && existsSync(index)) {
    await app.register(fastifyStatic, { root: webRoot, index: ['index.html'], wildcard: true, cacheControl: false });
    // Client-side routes (/chats, /devices) get the app; unknown API paths and missing files stay
    // 404s (a page served for a missing /assets/ script would be cached as that script).
    app.setNotFoundHandler((request, reply) => {
      if (request.method === 'GET' && isAppRoute(request.url)) return reply.type('text/html').sendFile('index.html');
      return reply.code(404).send({ error: 'not found' });
    });
    return;
  }
  app.get('/', (_request, reply) =>
    reply
      .type('text/html')
      .send(
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>Pairwise</title>' +
          '<h1>Pairwise server is running</h1><p>The web app is not built yet. Devices connect at <code>/ws</code>.</p></html>',
      ),
  );
}

/** Whether `url` is one of the app's own routes (/chats, /devices/link), not an API path or a file. */
function isAppRoute(url: string): boolean {
  const path = url.split('?')[0] ?? '';
  const last = path.slice(path.lastIndexOf('/') + 1);
  return !path.startsWith('/api/') && !path.startsWith('/ws') && !path.startsWith('/assets/') && !last.includes('.');
}
