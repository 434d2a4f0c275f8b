/**
 * Log out over HTTP (SPEC REVOKE-4): the one request whose response can carry
 * `Clear-Site-Data: "cache", "cookies", "storage"`, so that the browser itself wipes everything the
 * site stored, on top of the app's own wipe. Like every device action it is authorised by a
 * signature over a fresh single-use nonce (never a token): GET /api/challenge, then
 * POST /api/logout with the signature (purpose "log-out", its own label). The pending nonces are
 * bounded per requester, so that one client's flood cannot push out another device's nonce.
 * @module
 */
import { ProtocolError, type WireErrorCode } from '@pairwise/protocol/errors';
import { isDeviceId } from '@pairwise/protocol/ids';
import { CHALLENGE_TTL_MS } from '@pairwise/protocol/limits';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ServerContext } from './context.js';
import { verifyDeviceProof } from './device-proof.js';
import { removeDevice } from './device-removal.js';
import { coarseNetwork, requesterKey } from './network.js';
import { NonceBook } from './nonce-book.js';
import type { DeviceRow } from './store/store.js';

// Pending nonces per requester (an IPv4 address, an IPv6 /64) and in all (SPEC REVOKE-4). A
// browser needs one at a time; a few cover several browsers behind one NAT. The total bounds the
// server's memory (about 250 bytes a nonce) however many addresses a flood comes from.
const MAX_NONCES_PER_REQUESTER = 4;
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

/** This endpoint's wording of the refusals `verifyDeviceProof` throws. */
const PROOF_REFUSALS: Partial<Record<WireErrorCode, string>> = {
  CLOCK_SKEW: 'the device clock is off',
  AUTH_FAILED: 'device authentication failed',
};

/** Registers GET /api/challenge and POST /api/logout. */
export function registerHttpLogOut(app: FastifyInstance, ctx: ServerContext): void {
  const nonces = new NonceBook({
    perRequester: MAX_NONCES_PER_REQUESTER,
    total: MAX_PENDING_NONCES,
    ttlMs: CHALLENGE_TTL_MS,
    now: () => ctx.clock.now(),
  });

  app.get('/api/challenge', (request, reply) => {
    // request.ip is the socket's peer, or what X-Forwarded-For says when that peer is one of
    // TRUSTED_PROXIES: a client cannot choose the requester it is counted as.
    const issued = nonces.issue(requesterKey(request.ip));
    if ('retryAt' in issued) {
      const seconds = Math.max(1, Math.ceil((issued.retryAt - ctx.clock.now()) / 1000));
      reply.header('retry-after', String(seconds));
      return refuse(reply, 429, 'RATE_LIMITED', 'too many pending challenges; try again shortly');
    }
    return reply.header('cache-control', 'no-store').send({ nonce: issued.nonce, serverTime: ctx.clock.now() });
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
    // Spent whatever follows (SPEC AUTH-2); not tied to the address that asked for it, since a
    // browser's address may change between the two requests (IPv4 and IPv6, a new network).
    if (!nonces.take(Buffer.from(nonce).toString('base64url'))) return refuse(reply, 401, 'CHALLENGE_EXPIRED', 'request a new challenge');
    let device: DeviceRow | null;
    try {
      device = await verifyDeviceProof(ctx, { nonce, accountId, deviceId, clientTime, signature, purpose: 'log-out' });
    } catch (error) {
      const message = error instanceof ProtocolError ? PROOF_REFUSALS[error.code] : undefined;
      if (error instanceof ProtocolError && message !== undefined) return refuse(reply, error.spec.httpStatus, error.code, message);
      throw error;
    }
    if (device?.kind === 'primary') return refuse(reply, 403, 'FORBIDDEN', 'the primary device cannot log out');
    if (device !== null) await removeDevice(ctx, device, 'device', { network: coarseNetwork(request.ip) });
    // An unknown device is already logged out: the browser is told to clear the site all the same.
    return reply.code(204).header('cache-control', 'no-store').header('clear-site-data', CLEAR_SITE_DATA).send();
  });
}
