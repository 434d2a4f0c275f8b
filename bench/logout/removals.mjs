// Remote log out, timed: a primary links a companion (as a person would, through the SDK), then
// removes it (SPEC REVOKE-1), and the time from the RemoveDevice frame leaving the primary's socket
// to the close event of the companion's socket is one sample. The SDK's own sockets are used,
// watched from outside: the primary's sends are decoded to see when RemoveDevice goes, the
// companion's close event is timed on the same monotonic clock.
import { performance } from 'node:perf_hooks';
import { LinkRequest } from '@pairwise/client/link-request';
import { MemoryStore } from '@pairwise/client/memory-store';
import { nodeSocketFactory } from '@pairwise/client/node/ws-socket';
import { PairwiseClient } from '@pairwise/client/pairwise-client';
import { decodeClientFrame } from '@pairwise/protocol/frames';

/** How long one step (a link, a removal) may take before it counts as timed out, in ms. */
const STEP_TIMEOUT_MS = 15_000;

/**
 * A primary on `node` ({ url, origin }) whose RemoveDevice frames are timed: `removalSentAt` is
 * the performance.now() of the last one written to its socket.
 */
export async function timedPrimary(node, username) {
  const watch = { removalSentAt: null };
  const socketFactory = (url) => {
    const socket = nodeSocketFactory(url);
    const send = socket.send.bind(socket);
    socket.send = (data) => {
      // Taken before the write: the frame is on its way from here on.
      const at = performance.now();
      try {
        if (decodeClientFrame(data).body.case === 'removeDevice') watch.removalSentAt = at;
      } catch {
        // Not ours to judge: the server will.
      }
      send(data);
    };
    return socket;
  };
  const client = await PairwiseClient.createAccount({ origin: node.origin, url: node.url, socketFactory, store: new MemoryStore(), username });
  await client.ready();
  return { client, watch, node };
}

/**
 * Links a companion of `primary` on `node` and returns it with `closed(since)`: resolves with the
 * performance.now() of the first close event of its device socket at or after `since`.
 */
async function linkTimedCompanion(primary, node, deviceName) {
  const store = new MemoryStore();
  const request = new LinkRequest({ origin: node.origin, url: node.url, socketFactory: nodeSocketFactory, store, deviceName });
  const qr = request.once('qr');
  const linked = request.once('linked');
  const failed = request.once('error').then((error) => Promise.reject(error));
  // An error may come while start() is still running (a code the server did not issue): it is
  // raced below, never left unhandled.
  failed.catch(() => {});
  try {
    await request.start();
    const { approve } = await withTimeout(Promise.race([qr, failed]).then(({ text }) => primary.client.inspectLink(text)), 'the link code');
    await withTimeout(approve(), 'the approval');
    await withTimeout(Promise.race([linked, failed]), 'the link');
  } catch (error) {
    request.cancel();
    throw error;
  }
  const closes = [];
  let waiters = [];
  const socketFactory = (url) => {
    const socket = nodeSocketFactory(url);
    socket.on('close', () => {
      const at = performance.now();
      closes.push(at);
      for (const waiter of waiters) if (waiter.since <= at) waiter.resolve(at);
      waiters = waiters.filter((waiter) => waiter.since > at);
    });
    return socket;
  };
  const closed = (since) => {
    const at = closes.find((time) => time >= since);
    return at === undefined ? new Promise((resolve) => waiters.push({ since, resolve })) : Promise.resolve(at);
  };
  const companion = await PairwiseClient.open({ origin: node.origin, url: node.url, socketFactory, store });
  if (companion === null) throw new Error('the linked companion has no identity');
  await companion.ready();
  return { companion, closed };
}

/**
 * Runs removals until `count` are done or `until()` says stop: removal i links a companion of
 * pairs[i % pairs.length].primary on pairs[i % pairs.length].companionNode and removes it, no
 * sooner than i * spacingMs after the first (spread over the load's window, not bunched at its
 * start).
 * Returns the samples (ms, RemoveDevice sent -> companion socket closed; and from the
 * removeDevice() call, which first fetches and signs the account's list) and the failures.
 */
export async function measureRemovals({ pairs, count, until, spacingMs = 0, pauseMs = 100, onSample = () => {} }) {
  const samples = [];
  const fromCall = [];
  const failures = [];
  const startedAt = performance.now();
  for (let i = 0; i < count && !until(); i++) {
    await sleep(startedAt + i * spacingMs - performance.now());
    if (until()) break;
    const { primary, companionNode, label } = pairs[i % pairs.length];
    let linked;
    try {
      linked = await linkTimedCompanion(primary, companionNode, `bench laptop ${i}`);
    } catch (error) {
      failures.push(`link ${i} (${label}): ${error.message}`);
      continue;
    }
    const { companion, closed } = linked;
    // Let the new companion's own start-up (prekeys, list checks) finish: the removal, not a
    // first connection's work, is what is timed.
    await sleep(pauseMs);
    primary.watch.removalSentAt = null;
    const calledAt = performance.now();
    const closedAt = closed(calledAt);
    try {
      await withTimeout(primary.client.removeDevice(companion.deviceId), 'the removal');
      const at = await withTimeout(closedAt, "the companion's socket closing");
      const sent = primary.watch.removalSentAt;
      if (sent === null) throw new Error('no RemoveDevice frame seen');
      samples.push({ label, ms: at - sent });
      fromCall.push(at - calledAt);
      onSample(i, label, at - sent);
    } catch (error) {
      failures.push(`removal ${i} (${label}): ${error.message}`);
      await companion.close().catch(() => {});
    }
    await sleep(pauseMs);
  }
  return { samples, fromCall, failures };
}

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
