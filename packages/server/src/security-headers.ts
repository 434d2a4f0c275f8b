/**
 * Security headers on every HTTP response (SPEC HEADERS-*): the app's page, its assets, the API,
 * 404s and errors alike. A page that a strict Content-Security-Policy governs cannot run a script
 * an attacker slipped into a message, cannot be framed by a look-alike site, and cannot leak where
 * it is to other origins. The WebSocket upgrade at /ws is answered by ws itself, outside Fastify's
 * reply, and is unaffected.
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The Content-Security-Policy, one directive per line. Everything the app runs or shows is a
 * file from this origin: no inline script or style, no data: images (the QR code is a canvas),
 * no plugins, no framing. 'self' in connect-src also covers the same-origin ws:/wss: socket.
 * Trusted Types with no policy allowed: the app (Preact) never writes HTML strings into the page.
 * 'wasm-unsafe-eval' lets the app compile WebAssembly (the app lock's Argon2id, inlined in its
 * own pinned script) and nothing else: unlike 'unsafe-eval' it allows no eval() or new Function().
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

/**
 * Powerful features: the camera for this origin only (the phone scans link codes); everything
 * else the app does not use is denied to it and to any frame.
 */
export const PERMISSIONS_POLICY = [
  'camera=(self)',
  'microphone=()',
  'geolocation=()',
  'display-capture=()',
  'payment=()',
  'usb=()',
  'serial=()',
  'hid=()',
  'bluetooth=()',
  'midi=()',
  'accelerometer=()',
  'gyroscope=()',
  'magnetometer=()',
].join(', ');

/** Two years, the preload list's minimum; only ever sent over TLS. */
export const STRICT_TRANSPORT_SECURITY = 'max-age=63072000; includeSubDomains';

/** The headers every response carries, whatever it is. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'permissions-policy': PERMISSIONS_POLICY,
});

/** API answers (keys lists, challenges, device data) are never stored by a browser or proxy. */
export const API_CACHE_CONTROL = 'no-store';
/** Built files whose names carry their content hash never change: cache them for a year. */
export const ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';
/** The page and the other unhashed files: always ask the server, so an update is seen at once. */
export const PAGE_CACHE_CONTROL = 'no-cache';

/** What a response's Cache-Control is, from its path and status. */
export function cacheControlFor(path: string, statusCode: number): string {
  if (path.startsWith('/api/') || path === '/api' || path.startsWith('/__test__/')) return API_CACHE_CONTROL;
  // A 404 under /assets/ must not be cached for a year: the file may exist after an update.
  if (path.startsWith('/assets/') && (statusCode === 200 || statusCode === 304)) return ASSET_CACHE_CONTROL;
  return PAGE_CACHE_CONTROL;
}

/** Whether the browser reached us over TLS: directly, through a trusted proxy, or by configuration. */
function overTls(request: FastifyRequest, publicOrigin: string): boolean {
  return publicOrigin.startsWith('https:') || request.protocol === 'https';
}

/**
 * Adds the security headers and Cache-Control to every response of `app`. Register it before any
 * route or plugin, so that each of them (static files, not-found and error answers) gets it.
 */
export function registerSecurityHeaders(app: FastifyInstance, publicOrigin: string): void {
  // onSend runs for every answer Fastify sends, errors and 404s included, after the handler set
  // its own headers: the values here win.
  app.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done) => {
    reply.headers(SECURITY_HEADERS);
    reply.header('cache-control', cacheControlFor(pathOf(request.url), reply.statusCode));
    if (overTls(request, publicOrigin)) reply.header('strict-transport-security', STRICT_TRANSPORT_SECURITY);
    done(null, payload);
  });
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
