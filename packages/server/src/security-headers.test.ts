import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { parseAssetManifest } from './asset-manifest.js';
import { CONTENT_SECURITY_POLICY, cacheControlFor, registerSecurityHeaders, SECURITY_HEADERS } from './security-headers.js';

async function appWith(publicOrigin: string, trustProxy = false) {
  const app = Fastify({ logger: false, trustProxy });
  registerSecurityHeaders(app, publicOrigin);
  app.get('/api/thing', () => ({ ok: true }));
  app.get('/api/cached', (_request, reply) => reply.header('cache-control', 'public, max-age=60').send({ ok: true }));
  app.get('/boom', () => {
    throw new Error('boom');
  });
  await app.ready();
  return app;
}

describe('[HEADERS-1] security headers on every response', () => {
  it('are on answers, errors and 404s, and the API is never stored', async () => {
    const app = await appWith('http://localhost:8080');
    for (const [url, status] of [
      ['/api/thing', 200],
      ['/api/cached', 200],
      ['/api/missing', 404],
      ['/boom', 500],
      ['/nowhere', 404],
    ] as const) {
      const response = await app.inject({ url });
      expect(response.statusCode, url).toBe(status);
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(response.headers[name], `${url} ${name}`).toBe(value);
      expect(response.headers['strict-transport-security'], url).toBeUndefined();
    }
    expect((await app.inject({ url: '/api/cached' })).headers['cache-control']).toBe('no-store');
    await app.close();
  });

  it('the policy forbids inline script, plugins, framing and HTML sinks', () => {
    const directives = new Map(CONTENT_SECURITY_POLICY.split('; ').map((directive) => [directive.split(' ')[0], directive]));
    // WebAssembly compiles (the app lock's Argon2id); eval() and new Function() stay refused.
    expect(directives.get('script-src')).toBe("script-src 'self' 'wasm-unsafe-eval'");
    expect(directives.get('object-src')).toBe("object-src 'none'");
    expect(directives.get('frame-ancestors')).toBe("frame-ancestors 'none'");
    expect(directives.get('require-trusted-types-for')).toBe("require-trusted-types-for 'script'");
    expect(CONTENT_SECURITY_POLICY.replace("'wasm-unsafe-eval'", '')).not.toMatch(/unsafe-|data:|\*/);
  });

  it('chooses Cache-Control from the path', () => {
    expect(cacheControlFor('/api/version', 200)).toBe('no-store');
    expect(cacheControlFor('/assets/index-abc.js', 200)).toBe('public, max-age=31536000, immutable');
    expect(cacheControlFor('/assets/gone-abc.js', 404)).toBe('no-cache');
    expect(cacheControlFor('/chats', 200)).toBe('no-cache');
    expect(cacheControlFor('/', 200)).toBe('no-cache');
  });
});

describe('[HEADERS-2] Strict-Transport-Security only over TLS', () => {
  it('is sent when the public origin is https', async () => {
    const app = await appWith('https://chat.example.org');
    expect((await app.inject({ url: '/api/thing' })).headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
    await app.close();
  });

  it('is sent when a trusted proxy says the request came over https, and not otherwise', async () => {
    const app = await appWith('http://localhost:8080', true);
    const forwarded = await app.inject({ url: '/api/thing', headers: { 'x-forwarded-proto': 'https' } });
    expect(forwarded.headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
    expect((await app.inject({ url: '/api/thing' })).headers['strict-transport-security']).toBeUndefined();
    await app.close();
  });
});

describe('[SRI-2] asset manifest schema', () => {
  const digest = `sha384-${'A'.repeat(64)}`;

  it('accepts a build id and sha384 digests of paths from the root', () => {
    expect(parseAssetManifest({ build: '0123abcd9f', assets: { '/assets/index-x.js': digest } })).toEqual({
      build: '0123abcd9f',
      assets: { '/assets/index-x.js': digest },
    });
  });

  it.each([
    [null, /object/],
    [{ build: 'XYZ', assets: { '/a.js': digest } }, /build/],
    [{ build: '0123abcd', assets: [] }, /assets/],
    [{ build: '0123abcd', assets: {} }, /empty/],
    [{ build: '0123abcd', assets: { 'a.js': digest } }, /a\.js/],
    [{ build: '0123abcd', assets: { '/../etc/passwd': digest } }, /passwd/],
    [{ build: '0123abcd', assets: { '/a.js': 'sha256-abc' } }, /digest/],
  ])('refuses %o', (value, message) => {
    expect(() => parseAssetManifest(value)).toThrow(message);
  });
});
