/**
 * SDK clients for tests: each a real PairwiseClient over a real WebSocket, with its own store.
 * @module
 */
import { LinkRequest } from '@pairwise/client/link-request';
import { MemoryStore } from '@pairwise/client/memory-store';
import { nodeSocketFactory } from '@pairwise/client/node/ws-socket';
import { PairwiseClient } from '@pairwise/client/pairwise-client';
import type { ClientStore } from '@pairwise/client/client-store';
import type { SocketFactory, SocketLike } from '@pairwise/client/socket';
import WebSocket from 'ws';
import type { ServerProcess } from './server-process.js';

/**
 * Connection options for `server`, with a fresh memory store unless one is given. `now` is the
 * client's clock: tests that move the server's clock give clients the same time (TestClock).
 */
export function connectOptions(server: Pick<ServerProcess, 'url' | 'origin'>, store: ClientStore = new MemoryStore(), now?: () => number) {
  return { origin: server.origin, url: server.url, socketFactory: nodeSocketFactory, store, ...(now ? { now } : {}) };
}

/**
 * Sockets that arrive through a proxy the server trusts (TRUSTED_PROXIES=127.0.0.1) on behalf of
 * `ip`, so that each client of a test can come from its own address.
 */
export function socketsFrom(ip: string): SocketFactory {
  return (url) =>
    new WebSocket(url, { maxPayload: 1024 * 1024, headers: { 'user-agent': 'Pairwise Node SDK', 'x-forwarded-for': ip } }) as unknown as SocketLike;
}

/** A primary device with a new account. */
export async function createPrimary(server: ServerProcess, username: string, store?: ClientStore, now?: () => number): Promise<PairwiseClient> {
  const client = await PairwiseClient.createAccount({ ...connectOptions(server, store, now), username, deviceName: `${username}'s phone` });
  await client.ready();
  return client;
}

/** The device kept in `store`, opened again (as at an app's next start) and connected. */
export async function reopen(
  server: Pick<ServerProcess, 'url' | 'origin'>,
  store: ClientStore,
  now?: () => number,
  beforeReady?: (client: PairwiseClient) => void,
): Promise<PairwiseClient> {
  const client = await PairwiseClient.open(connectOptions(server, store, now));
  if (client === null) throw new Error('the store holds no device');
  beforeReady?.(client);
  await client.ready();
  return client;
}

/** `reopen`, with the texts it receives pushed onto `received` from before it connects, so that none is missed. */
export function reopenListening(server: Pick<ServerProcess, 'url' | 'origin'>, store: ClientStore, received: string[]): Promise<PairwiseClient> {
  return reopen(server, store, undefined, (client) => client.on('message', (message) => received.push(message.text)));
}

/**
 * Links a new companion to `primary` the way a person would: the companion shows a code, the
 * phone "scans" it, checks the request, approves (with the two-step PIN when given). Returns the
 * companion, connected.
 */
export async function linkCompanion(
  server: ServerProcess,
  primary: PairwiseClient,
  options: { store?: ClientStore; deviceName?: string; now?: () => number; temporary?: boolean; pin?: string } = {},
): Promise<PairwiseClient> {
  const store = options.store ?? new MemoryStore();
  const request = new LinkRequest({
    ...connectOptions(server, store, options.now),
    deviceName: options.deviceName ?? 'Test browser',
    ...(options.temporary ? { temporary: true } : {}),
  });
  const qr = request.once('qr');
  const linked = request.once('linked');
  const failed = request.once('error').then((error) => Promise.reject(error));
  // Handled from the start: an error during start() or the approval must fail the race below, not
  // surface first as an unhandled rejection.
  failed.catch(() => {});
  await request.start();
  const { approve } = await primary.inspectLink((await qr).text);
  await approve(options.pin);
  await Promise.race([linked, failed]);
  const companion = await PairwiseClient.open(connectOptions(server, store, options.now));
  if (companion === null) throw new Error('the linked companion has no identity');
  await companion.ready();
  return companion;
}

/** Resolves when `predicate` holds, polling; fails after `timeoutMs`. */
export async function eventually(predicate: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!(await predicate())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
