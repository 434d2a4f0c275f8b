// The real Pairwise server as a ring benchmark's "system" (see run.mjs), and the two steps that
// make its clients real devices: accounts registered through the SDK, then devices signed in over
// raw WebSockets so that no ratchet runs in the generator. Shared by bench/ring and bench/idle.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { freshSchema } from '../fresh-schema.mjs';
import { freePort, startChild } from './processes.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SERVER_MAIN = join(ROOT, 'packages/server/dist/main.js');
const ACK_EVERY_MS = 5;

/**
 * Starts the server under `taskset -c serverCpu` and signs in `n` ring clients. `env` is added to
 * (and overrides) the server's environment; `database` is 'sqlite' or 'postgres'; `profile` is a
 * directory for the server's CPU profile, or undefined.
 */
export async function startPairwise({ n, database = 'sqlite', profile, serverCpu, env: extraEnv = {} }) {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'pairwise-ring-'));
  const origin = `http://localhost:${port}`;
  const env = {
    PATH: process.env.PATH ?? '',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_ORIGIN: origin,
    DATA_DIR: dataDir,
    // Info, for the "serving" line; nothing is logged per request.
    LOG_LEVEL: 'info',
    // One generator address opens every socket of the ring.
    MAX_PENDING_CONNECTIONS_PER_ADDRESS: String(Math.max(32, n)),
    MAX_PENDING_CONNECTIONS: String(Math.max(2000, n)),
    REGISTRATIONS_PER_HOUR_PER_ADDRESS: String(Math.max(10, n)),
    ...extraEnv,
  };
  const schema = database === 'postgres' ? await freshSchema('ring') : null;
  if (schema !== null) env.DATABASE_URL = schema.url;
  const nodeArgs = profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : [];
  const server = await startChild('taskset', ['-c', serverCpu, process.execPath, ...nodeArgs, SERVER_MAIN], env, /Pairwise is serving/, 'the Pairwise server');
  // taskset execs node: the child's pid is the server's.
  const pid = server.child.pid;
  const url = `ws://127.0.0.1:${port}/ws`;
  const accounts = await registerAccounts({ url, origin, count: n });
  const { encodeClientFrame } = await import('@pairwise/protocol/frames');
  const clients = [];
  let onDeliver = () => {};
  for (let from = 0; from < n; from += 50) {
    const batch = accounts.slice(from, from + 50).map(async (account, offset) => {
      const client = { index: from + offset, socket: null, account, nextId: 2, waiting: new Map(), pendingAcks: [] };
      client.socket = await signInDevice({
        url,
        origin,
        account,
        onFrame(body) {
          if (body.case === 'response') {
            const waiter = client.waiting.get(body.value.requestId);
            client.waiting.delete(body.value.requestId);
            waiter?.(body.value.error?.code ?? null);
          } else if (body.case === 'deliver') {
            client.pendingAcks.push(body.value.seq);
            if (body.value.item.case === 'message') onDeliver(body.value.item.value.content);
          }
        },
      });
      return client;
    });
    clients.push(...(await Promise.all(batch)));
  }
  // Batched acknowledgements, as the SDK sends them.
  const acker = setInterval(() => {
    for (const client of clients) {
      if (client.pendingAcks.length === 0) continue;
      const seqs = client.pendingAcks.splice(0, 1000);
      client.socket.send(encodeClientFrame({ requestId: 0, body: { case: 'ackInbox', value: { seqs } } }));
    }
  }, ACK_EVERY_MS);
  const idPrefix = randomBytes(8);
  let counter = 0;
  return {
    name: `Pairwise (${database === 'postgres' ? 'PostgreSQL' : 'SQLite'})`,
    pid,
    url,
    origin,
    listen(handler) {
      onDeliver = handler;
    },
    send(index, payload) {
      const client = clients[index];
      const recipient = clients[(index + 1) % n].account;
      const requestId = client.nextId++;
      const clientMessageId = Buffer.alloc(16);
      idPrefix.copy(clientMessageId, 0);
      clientMessageId.writeDoubleBE(counter++, 8);
      client.socket.send(
        encodeClientFrame({
          requestId,
          body: {
            case: 'sendMessage',
            value: { clientMessageId, recipientAccountId: recipient.accountId, envelopes: [{ deviceId: recipient.deviceId, content: payload }] },
          },
        }),
      );
      return new Promise((resolve) => client.waiting.set(requestId, resolve));
    },
    async stop() {
      clearInterval(acker);
      for (const client of clients) client.socket.terminate();
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
      await schema?.drop();
    },
  };
}

/**
 * `count` accounts made by the SDK (keys, prekeys, signed list, attestation), `concurrency` at a
 * time, named `${prefix}${first + i}`; returns what signing in needs. Prints how long it took
 * unless `label` is null.
 */
export async function registerAccounts({ url, origin, count, first = 0, prefix = 'ring', concurrency = 10, label = 'bench/ring' }) {
  const { PairwiseClient } = await import('@pairwise/client/pairwise-client');
  const { MemoryStore } = await import('@pairwise/client/memory-store');
  const { nodeSocketFactory } = await import('@pairwise/client/node/ws-socket');
  const { StoreTable } = await import('@pairwise/client/client-store');
  const accounts = [];
  const started = performance.now();
  for (let from = 0; from < count; from += concurrency) {
    const batch = Array.from({ length: Math.min(concurrency, count - from) }, async (_, offset) => {
      // The memory store keeps the device's CryptoKeys as they are: this process signs with them.
      const store = new MemoryStore();
      const username = `${prefix}${first + from + offset}`;
      const client = await PairwiseClient.createAccount({ origin, url, socketFactory: nodeSocketFactory, store, username });
      await client.ready();
      await client.close();
      const identity = await store.get(StoreTable.Identity, 'self');
      return { accountId: identity.accountId, deviceId: identity.deviceId, signingKey: identity.device.signing.privateKey };
    });
    accounts.push(...(await Promise.all(batch)));
  }
  if (label !== null) console.error(`${label}: ${count} accounts registered in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return accounts;
}

/**
 * Opens a socket (from `localAddress` when given) and signs `account`'s device in with its device
 * key (SPEC AUTH-1), as request 1; resolves with the socket once the server answered
 * "authenticated". Every frame after that answer goes to `onFrame(body)`.
 */
export async function signInDevice({ url, origin, account, localAddress, onFrame = () => {} }) {
  const { decodeServerFrame, encodeClientFrame } = await import('@pairwise/protocol/frames');
  const { signDeviceChallenge } = await import('@pairwise/crypto/device-auth');
  const { PROTOCOL_VERSION } = await import('@pairwise/protocol/version');
  const socket = new WebSocket(url, { maxPayload: 1024 * 1024, ...(localAddress ? { localAddress } : {}) });
  let state = 'waiting';
  await new Promise((resolve, reject) => {
    socket.on('message', (data) => {
      const body = decodeServerFrame(new Uint8Array(data)).body;
      if (state === 'signed-in') onFrame(body);
      else if (body.case === 'challenge' && state === 'waiting') {
        state = 'answering';
        const clientTime = Date.now();
        const { accountId, deviceId } = account;
        void signDeviceChallenge(account.signingKey, { origin, nonce: body.value.nonce, accountId, deviceId, clientTime }).then((signature) =>
          socket.send(
            encodeClientFrame({
              requestId: 1,
              body: { case: 'authenticate', value: { accountId, deviceId, clientTime, signature, protocolVersion: PROTOCOL_VERSION } },
            }),
          ),
        );
      } else if (body.case === 'response') {
        if (body.value.result.case === 'authenticated') {
          state = 'signed-in';
          resolve();
        } else if (body.value.error) reject(new Error(`${account.accountId}: ${body.value.error.code}`));
      }
    });
    socket.once('error', reject);
    socket.once('close', (code) => reject(new Error(`${account.accountId}: the socket closed (${code}) before signing in`)));
  });
  return socket;
}
