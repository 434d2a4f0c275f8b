/**
 * Log out over HTTP (SPEC REVOKE-4): the one request whose response can carry
 * `Clear-Site-Data: "cache", "cookies", "storage"`, so that the browser itself wipes everything the
 * site stored, on top of the app's own wipe. Like every device action it is authorised by a
 * signature over a fresh single-use nonce (never a token): GET /api/challenge, then
 * POST /api/logout with the signature (purpose "log-out", its own label).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { verifyDeviceChallenge } from '@pairwise/crypto/device-auth';
import { isDeviceId } from '@pairwise/protocol/ids';
import { CHALLENGE_TTL_MS, MAX_CLOCK_SKEW_MS } from '@pairwise/protocol/limits';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ServerContext } from './context.js';
import { removeDevice } from './device-removal.js';
import { coarseNetwork } from './network.js';

/** Nonces waiting to be used; bounded so that requests cannot grow it without end. */
const MAX_PENDING_NONCES = 10_000;
const CLEAR_SITE_DATA = '"cache", "cookies", "storage"';

interface LogOutBody {
  readonly accountId?: unknown;
  readonly deviceId?: unknown;
  readonly clientTime?: unknown;
  readonly nonce?: unknown;
  readonly signature?: unknown;
}

function base64Url(value: unknown, length: number): Uint8Array | null {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]+$/.test(value)) return null;
  const bytes = new Uint8Array(Buffer.from(value, 'base64url'));
  return bytes.length === length ? bytes : null;
}

function refuse(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).header('cache-control', 'no-store').send({ code, message });
}

/** Registers GET /api/challenge and POST /api/logout. */
export function registerHttpLogOut(app: FastifyInstance, ctx: ServerContext): void {
  const nonces = new Map<string, number>();

  app.get('/api/challenge', (_request, reply) => {
    const now = ctx.clock.now();
    for (const [nonce, expiresAt] of nonces) if (expiresAt < now || nonces.size >= MAX_PENDING_NONCES) nonces.delete(nonce);
    const nonce = randomBytes(32).toString('base64url');
    nonces.set(nonce, now + CHALLENGE_TTL_MS);
    return reply.header('cache-control', 'no-store').send({ nonce, serverTime: now });
  });

  app.post<{ Body: LogOutBody }>('/api/logout', async (request, reply) => {
    const body = request.body ?? {};
    const nonce = base64Url(body.nonce, 32);
    const signature = base64Url(body.signature, 64);
    const { accountId, deviceId, clientTime } = body;
    if (
      nonce === null ||
      signature === null ||
      typeof accountId !== 'string' ||
      typeof deviceId !== 'string' ||
      !isDeviceId(deviceId) ||
      typeof clientTime !== 'number'
    ) {
      return refuse(reply, 400, 'BAD_REQUEST', 'accountId, deviceId, clientTime, nonce and signature are required');
    }
    const now = ctx.clock.now();
    const key = Buffer.from(nonce).toString('base64url');
    const expiresAt = nonces.get(key);
    nonces.delete(key);
    if (expiresAt === undefined || expiresAt < now) return refuse(reply, 401, 'CHALLENGE_EXPIRED', 'request a new challenge');
    if (Math.abs(clientTime - now) > MAX_CLOCK_SKEW_MS) return refuse(reply, 401, 'CLOCK_SKEW', 'the device clock is off');
    const device = await ctx.store.getDevice(deviceId);
    const signed =
      device !== null &&
      device.accountId === accountId &&
      (await verifyDeviceChallenge(
        device.signingKey,
        { origin: ctx.config.publicOrigin, nonce, accountId, deviceId, clientTime, purpose: 'log-out' },
        signature,
      ));
    if (device !== null && !signed) return refuse(reply, 401, 'AUTH_FAILED', 'device authentication failed');
    if (device?.kind === 'primary') return refuse(reply, 403, 'FORBIDDEN', 'the primary device cannot log out');
    if (device !== null) await removeDevice(ctx, device, 'device', { network: coarseNetwork(request.ip) });
    // An unknown device is already logged out: the browser is told to clear the site all the same.
    return reply.code(204).header('cache-control', 'no-store').header('clear-site-data', CLEAR_SITE_DATA).send();
  });
}
