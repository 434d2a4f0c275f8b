/**
 * The crash loop (SPEC INBOX-2, INBOX-5, SEND-1): a sender streams texts to a recipient while the
 * real server is killed with SIGKILL at seeded random intervals and started again on the same port
 * and data; at the end every send the server acknowledged must have arrived exactly once, and
 * nothing may arrive that was never sent. Shared by crash-loop.test.ts (short) and
 * bench/crash-loop (two minutes), which imports the built dist/crash-loop.js.
 *
 * Two wire taps look under the SDK, which would hide what matters: the recipient's receiver drops
 * repeats by client message id, so a send the server stored twice (two inbox rows, two seqs) would
 * still show once; the tap counts seqs per client message id. The sender's tap counts sends answered
 * `duplicate: true`, the retries of sends whose answer the crash swallowed: that path is what makes
 * "exactly once" more than "at most once".
 * @module
 */
import { toHex } from '@pairwise/crypto/bytes';
import { MemoryStore } from '@pairwise/client/memory-store';
import { nodeSocketFactory } from '@pairwise/client/node/ws-socket';
import { PairwiseClient } from '@pairwise/client/pairwise-client';
import type { SocketFactory } from '@pairwise/client/socket';
import { decodeServerFrame } from '@pairwise/protocol/frames';
import type { ServerFrame } from '@pairwise/protocol/wire';
import type WebSocket from 'ws';
import type { ServerProcess } from './server-process.js';

/** How a crash loop runs. */
export interface CrashLoopOptions {
  /** A running server; it is killed and restarted, each new handle given to `onServer`. */
  readonly server: ServerProcess;
  /** Told every restarted server, so that the caller can stop the last one. */
  readonly onServer: (server: ServerProcess) => void;
  /** How long the stream and the kills go on, in ms. */
  readonly durationMs: number;
  /**
   * A kill comes this long (uniform in [min, max] ms) after the start, and then after the sender
   * is back online following the previous kill.
   */
  readonly killEveryMs: { readonly min: number; readonly max: number };
  /** Seeds the kill intervals, so that a failing schedule can be replayed. */
  readonly seed: number;
  /**
   * The kills: at most `max` (no limit when absent); and at least `min` (default 0), the loop going
   * on past `durationMs` until they happened, so that a slow machine (slow restarts, long
   * reconnect backoffs) does not make a short run test fewer crashes than it says.
   */
  readonly kills?: { readonly min?: number; readonly max?: number };
  /** A new send is started every this many ms (default 5)... */
  readonly sendEveryMs?: number;
  /** ...while fewer than this many are unacknowledged (default 100): an outage pauses the stream. */
  readonly maxUnacknowledged?: number;
  /** After the stream, how long everything may take to settle and arrive, in ms (default 60 s). */
  readonly drainMs?: number;
  /** Usernames are `${prefix}s` and `${prefix}r` (default "crashloop"). */
  readonly prefix?: string;
  /** Progress lines (a kill, a restart); none when absent. */
  readonly log?: (line: string) => void;
}

/** What a crash loop saw. A run passes when `failure(result)` is null. */
export interface CrashLoopResult {
  readonly seed: number;
  readonly sent: number;
  /** Sends the server answered "accepted" (the SDK's sendText resolved). */
  readonly acknowledged: number;
  /** Distinct sends the recipient showed. */
  readonly delivered: number;
  readonly kills: number;
  readonly restarts: number;
  /** Sends started and not acknowledged when a kill came, summed over the kills. */
  readonly inFlightAtKills: number;
  /** From each kill to the sender's next authenticated connection, in ms (restart + reconnect backoff). */
  readonly outagesMs: readonly number[];
  /** Sends answered `duplicate: true`: stored before a crash, their answer lost, sent again. */
  readonly answeredDuplicate: number;
  /** Rows pushed again (same seq) after a crash ate their acknowledgement: expected, harmless. */
  readonly redelivered: number;
  /** Acknowledged sends that never arrived. */
  readonly lost: readonly number[];
  /** Sends the recipient showed more than once. */
  readonly duplicates: readonly number[];
  /** Sends the server stored under more than one seq (the SDK hid the repeat). */
  readonly duplicateRows: readonly number[];
  /** Texts that arrived and were never sent (or arrived under another message id). */
  readonly unknown: readonly string[];
  /** Sends that failed for good (SPEC SEND-1 says a crash is not a reason to). */
  readonly refused: readonly { readonly k: number; readonly error: string }[];
  /** Sends still neither acknowledged nor refused when the drain ended. */
  readonly unsettled: number;
  readonly elapsedMs: number;
}

const TEXT_PREFIX = 'crash-loop ';

/** Runs the loop; resolves with the counts (it does not judge them: see `failure`). */
export async function runCrashLoop(options: CrashLoopOptions): Promise<CrashLoopResult> {
  const { durationMs, killEveryMs, seed } = options;
  const minKills = options.kills?.min ?? 0;
  const maxKills = options.kills?.max ?? Infinity;
  const sendEveryMs = options.sendEveryMs ?? 5;
  const maxUnacknowledged = options.maxUnacknowledged ?? 100;
  const drainMs = options.drainMs ?? 60_000;
  const prefix = options.prefix ?? 'crashloop';
  const log = options.log ?? (() => {});
  const random = xorshift32(seed);
  let server = options.server;

  let answeredDuplicate = 0;
  const seqsByMessageId = new Map<string, Set<number>>();
  let messageDeliveries = 0;
  const sender = await account(server, `${prefix}s`, tapped((frame) => {
    const body = frame.body;
    if (body.case === 'response' && body.value.result.case === 'sendResult' && body.value.result.value.duplicate) answeredDuplicate++;
  }));
  const recipientName = `${prefix}r`;
  const recipient = await account(server, recipientName, tapped((frame) => {
    const body = frame.body;
    if (body.case !== 'deliver' || body.value.item.case !== 'message') return;
    messageDeliveries++;
    const id = toHex(body.value.item.value.clientMessageId);
    const seqs = seqsByMessageId.get(id) ?? new Set<number>();
    seqsByMessageId.set(id, seqs.add(body.value.seq));
  }));

  // k -> the message id the server accepted it under; and what arrived, by k.
  const acknowledged = new Map<number, string>();
  const refused: { k: number; error: string }[] = [];
  const arrivals = new Map<number, string[]>();
  const unknown: string[] = [];
  recipient.on('message', (message) => {
    const k = message.text.startsWith(TEXT_PREFIX) ? Number(message.text.slice(TEXT_PREFIX.length)) : NaN;
    if (!Number.isSafeInteger(k)) unknown.push(message.text);
    else arrivals.set(k, [...(arrivals.get(k) ?? []), message.messageId]);
  });

  const started = Date.now();
  let sent = 0;
  let settled = 0;
  const streaming = setInterval(() => {
    if (sent - settled >= maxUnacknowledged) return;
    const k = sent++;
    sender.sendText(recipientName, `${TEXT_PREFIX}${k}`).then(
      (result) => acknowledged.set(k, result.messageId),
      (error: unknown) => refused.push({ k, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }),
    ).finally(() => settled++);
  }, sendEveryMs);

  let kills = 0;
  let restarts = 0;
  let inFlightAtKills = 0;
  const outagesMs: number[] = [];
  let killedAt: number | null = null;
  sender.on('connection', ({ state }) => {
    if (state !== 'online' || killedAt === null) return;
    outagesMs.push(Date.now() - killedAt);
    killedAt = null;
  });
  try {
    const moreKills = (): boolean => kills < maxKills && (kills < minKills || Date.now() - started < durationMs);
    while (moreKills()) {
      const waitMs = killEveryMs.min + random() * (killEveryMs.max - killEveryMs.min);
      if (kills >= minKills && Date.now() - started + waitMs >= durationMs) {
        await sleep(durationMs - (Date.now() - started));
        break;
      }
      await sleep(waitMs);
      const inFlight = sent - settled;
      inFlightAtKills += inFlight;
      await server.kill();
      killedAt = Date.now();
      kills++;
      server = await server.restart();
      restarts++;
      options.onServer(server);
      log(`kill ${kills} at ${((killedAt - started) / 1000).toFixed(1)} s, ${inFlight} sends in flight, restarted in ${Date.now() - killedAt} ms`);
      // The next interval counts from the sender's return: a kill during its reconnect backoff
      // would only test a server with nothing in flight.
      while (killedAt !== null && moreKills()) await sleep(20);
    }
    const remaining = durationMs - (Date.now() - started);
    if (remaining > 0) await sleep(remaining);
  } catch (error) {
    // A server that does not come back after a kill is itself a finding: the caller hears it.
    clearInterval(streaming);
    await Promise.allSettled([sender.close(), recipient.close()]);
    throw error;
  } finally {
    clearInterval(streaming);
  }

  // The drain: every send settles, every acknowledged one arrives; then a moment for late repeats.
  const drainUntil = Date.now() + drainMs;
  while (Date.now() < drainUntil && (settled < sent || [...acknowledged.keys()].some((k) => !arrivals.has(k)))) await sleep(50);
  await sleep(1000);
  await sender.close();
  await recipient.close();

  const texts = new Map([...acknowledged].map(([k, id]) => [id, k]));
  const duplicateRows: number[] = [];
  let distinctRows = 0;
  for (const [id, seqs] of seqsByMessageId) {
    distinctRows += seqs.size;
    if (seqs.size > 1) duplicateRows.push(texts.get(id) ?? -1);
  }
  for (const [k, ids] of arrivals) {
    // A text that names a k never sent, or arrives under another id than the one acknowledged.
    const expected = acknowledged.get(k);
    if (k >= sent || (expected !== undefined && ids.some((id) => id !== expected))) unknown.push(`${TEXT_PREFIX}${k}`);
  }
  return {
    seed,
    sent,
    acknowledged: acknowledged.size,
    delivered: arrivals.size,
    kills,
    restarts,
    inFlightAtKills,
    outagesMs,
    answeredDuplicate,
    redelivered: messageDeliveries - distinctRows,
    lost: [...acknowledged.keys()].filter((k) => !arrivals.has(k)),
    duplicates: [...arrivals].filter(([, ids]) => ids.length > 1).map(([k]) => k),
    duplicateRows,
    unknown,
    refused,
    unsettled: sent - settled,
    elapsedMs: Date.now() - started,
  };
}

/** Why a run failed, in one line, or `null` when it passed. */
export function failure(result: CrashLoopResult): string | null {
  const reasons: string[] = [];
  const few = (list: readonly unknown[]): string => `${list.length} (${list.slice(0, 10).join(', ')}${list.length > 10 ? ', ...' : ''})`;
  if (result.lost.length > 0) reasons.push(`acknowledged but never delivered: ${few(result.lost)}`);
  if (result.duplicates.length > 0) reasons.push(`delivered more than once: ${few(result.duplicates)}`);
  if (result.duplicateRows.length > 0) reasons.push(`stored under more than one seq: ${few(result.duplicateRows)}`);
  if (result.unknown.length > 0) reasons.push(`delivered but never sent: ${few(result.unknown)}`);
  if (result.refused.length > 0) reasons.push(`refused: ${few(result.refused.map((r) => `${r.k} ${r.error}`))}`);
  if (result.unsettled > 0) reasons.push(`${result.unsettled} sends neither acknowledged nor refused after the drain`);
  if (result.acknowledged === 0) reasons.push('nothing was acknowledged');
  return reasons.length === 0 ? null : reasons.join('; ');
}

/** The counts as one line of `key value` pairs. */
export function summary(result: CrashLoopResult): string {
  return [
    `seed ${result.seed}`,
    `sent ${result.sent}`,
    `acknowledged ${result.acknowledged}`,
    `delivered ${result.delivered}`,
    `kills ${result.kills}`,
    `restarts ${result.restarts}`,
    `lost ${result.lost.length}`,
    `duplicates ${result.duplicates.length}`,
    `duplicate-rows ${result.duplicateRows.length}`,
    `unknown ${result.unknown.length}`,
    `refused ${result.refused.length}`,
    `unsettled ${result.unsettled}`,
    `in-flight-at-kills ${result.inFlightAtKills}`,
    `outage max ${Math.max(0, ...result.outagesMs)} ms`,
    `answered-duplicate ${result.answeredDuplicate}`,
    `redelivered ${result.redelivered}`,
    `elapsed ${(result.elapsedMs / 1000).toFixed(1)} s`,
  ].join(', ');
}

async function account(server: ServerProcess, username: string, socketFactory: SocketFactory): Promise<PairwiseClient> {
  const client = await PairwiseClient.createAccount({ origin: server.origin, url: server.url, socketFactory, store: new MemoryStore(), username });
  await client.ready();
  return client;
}

/** The SDK's Node sockets, each frame from the server also shown to `onFrame` (decoded again). */
function tapped(onFrame: (frame: ServerFrame) => void): SocketFactory {
  return (url) => {
    const socket = nodeSocketFactory(url);
    (socket as unknown as WebSocket).on('message', (data: ArrayBuffer | Buffer) => {
      try {
        onFrame(decodeServerFrame(data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
      } catch {
        // A frame the SDK cannot read either: the SDK's own handling is what is under test.
      }
    });
    return socket;
  };
}

/** A seeded generator of numbers in [0, 1) (xorshift32). */
function xorshift32(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
