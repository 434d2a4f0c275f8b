/**
 * SDK clients for tests: each a real PairwiseClient over a real WebSocket, with its own store.
 * @module
 */
import { LinkRequest } from '@pairwise/client/link-request';
import { MemoryStore } from '@pairwise/client/memory-store';
import { nodeSocketFactory } from '@pairwise/client/node/ws-socket';
import { PairwiseClient } from '@pairwise/client/pairwise-client';
import type { ClientStore } from '@pairwise/client/client-store';
import type { ServerProcess } from './server-process.js';

/** Connection options for `server`, with a fresh memory store unless one is given. */
export function connectOptions(server: Pick<ServerProcess, 'url' | 'origin'>, store: ClientStore = new MemoryStore()) {
  return { origin: server.origin, url: server.url, socketFactory: nodeSocketFactory, store };
}

/** A primary device with a new account. */
export async function createPrimary(server: ServerProcess, username: string, store?: ClientStore): Promise<PairwiseClient> {
  const client = await PairwiseClient.createAccount({ ...connectOptions(server, store), username, deviceName: `${username}'s phone` });
  await client.ready();
  return client;
}

/**
 * Links a new companion to `primary` the way a person would: the companion shows a code, the
 * phone "scans" it, checks the request, approves. Returns the companion, connected.
 */
export async function linkCompanion(
  server: ServerProcess,
  primary: PairwiseClient,
  options: { store?: ClientStore; deviceName?: string } = {},
): Promise<PairwiseClient> {
  const store = options.store ?? new MemoryStore();
  const request = new LinkRequest({ ...connectOptions(server, store), deviceName: options.deviceName ?? 'Test browser' });
  const qr = request.once('qr');
  const linked = request.once('linked');
  const failed = request.once('error').then((error) => Promise.reject(error));
  await request.start();
  const { approve } = await primary.inspectLink((await qr).text);
  await approve();
  await Promise.race([linked, failed]);
  const companion = await PairwiseClient.open(connectOptions(server, store));
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
