/**
 * The server's Prometheus metrics (SPEC OPS-4), in a registry of its own: several servers in one
 * test process must not share prom-client's global one. Every series carries the constant label
 * `node` (NODE_NAME), so that the nodes of one installation can be told apart and summed.
 *
 * Counts on the hot path (sends, deliveries, acknowledgements, Bus events, refusals) are plain
 * numbers bumped inline and copied into the registry only when it is scraped: an increment is one
 * addition, with no label hashing and no allocation per message. Gauges are read from their
 * sources (the hub, the store) at scrape time, so nothing has to keep them up to date.
 * @module
 */
import type { WireErrorCode } from '@pairwise/protocol/errors';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BusEvent, BusGap } from './bus/bus.js';

/** Why an Authenticate was refused: few values, so that the label stays small. */
export const AuthFailure = {
  /** The client speaks a protocol older than the server accepts (UPDATE_REQUIRED). */
  Version: 'version',
  /** A field is missing or malformed (BAD_REQUEST). */
  Malformed: 'malformed',
  /** No valid challenge nonce: expired, used, or never asked for (CHALLENGE_EXPIRED). */
  Challenge: 'challenge',
  /** The device's clock is too far from the server's (CLOCK_SKEW). */
  ClockSkew: 'clock-skew',
  /** The device does not exist (any more): removed, logged out, or never was (LOGGED_OUT). */
  UnknownDevice: 'unknown-device',
  /** The signature does not verify, or the device is another account's (AUTH_FAILED). */
  Signature: 'signature',
} as const;
/** One of `AuthFailure`. */
export type AuthFailure = (typeof AuthFailure)[keyof typeof AuthFailure];

/** Where the gauges are read from at scrape time. */
export interface MetricSources {
  /** Rows waiting in all inboxes (the store's `countInbox`; shared by every node of the store). */
  inboxDepth(): Promise<number>;
  /** WebSockets open on this node, signed in or not. */
  openConnections(): number;
  /** Devices with at least one signed-in socket on this node. */
  authenticatedDevices(): number;
}

/** How a `Metrics` is made. */
export interface MetricsOptions {
  /** The `node` label of every series (NODE_NAME). */
  readonly node: string;
  /**
   * Whether to add prom-client's process metrics (CPU, memory, event loop lag, GC). Default true.
   * Tests that make many servers in one process turn it off: each set starts a GC observer and an
   * event loop monitor that live as long as the process.
   */
  readonly processMetrics?: boolean;
}

/** Sends per commit: group commit takes at most 256 (kysely-store.ts, GROUP_COMMIT_MAX). */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
/** Seconds: an fsync on an SSD is around a millisecond, a slow disk's tens of them. */
const COMMIT_SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

type BusEventType = BusEvent['type'];
type BusReceivedType = BusEventType | BusGap['type'];

/** Zero for every Bus event type; the return type makes the compiler name any type left out. */
function busEventCounts(): Record<BusEventType, number> {
  return { inbox: 0, revoke: 0, 'device-list': 0, 'link-approved': 0, 'device-removed': 0, 'prekeys-low': 0, security: 0 };
}

function authFailureCounts(): Record<AuthFailure, number> {
  return Object.fromEntries(Object.values(AuthFailure).map((reason) => [reason, 0])) as Record<AuthFailure, number>;
}

/** The metrics of one server, and the registry they are scraped from. */
export class Metrics {
  readonly registry = new Registry();
  private sends = 0;
  private deliveries = 0;
  private acks = 0;
  private readonly published = busEventCounts();
  private readonly received: Record<BusReceivedType, number> = { ...busEventCounts(), gap: 0 };
  private readonly authFailures = authFailureCounts();
  /** By code, only codes that occurred: most of the error table never does on a healthy server. */
  private readonly refusals = new Map<WireErrorCode, number>();
  private sources: MetricSources | null = null;
  private readonly commitSends: Histogram;
  private readonly commitSeconds: Histogram;

  constructor(options: MetricsOptions) {
    const registry = this.registry;
    registry.setDefaultLabels({ node: options.node });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
    const registers = [registry];

    counter(registry, 'pairwise_sends_accepted_total', 'Messages accepted and stored for every device they were sent to (duplicates and refused sends not counted).', () => this.sends);
    counter(
      registry,
      'pairwise_deliveries_pushed_total',
      'Inbox rows pushed to devices on this node (messages and expiry notices; a row pushed again after a reconnect counts again).',
      () => this.deliveries,
    );
    counter(registry, 'pairwise_acks_received_total', 'Inbox rows devices on this node acknowledged (each seq in an AckInbox request).', () => this.acks);
    labelledCounter(registry, 'pairwise_auth_failures_total', 'Authenticate requests refused, by reason.', 'reason', () => this.authFailures);
    labelledCounter(
      registry,
      'pairwise_bus_events_published_total',
      'Events this node handed to the Bus, by event type.',
      'type',
      () => this.published,
    );
    labelledCounter(
      registry,
      'pairwise_bus_events_received_total',
      "Events this node's hub handled, by event type (its own included; type \"gap\": the Bus may have lost events and the node caught up from the store).",
      'type',
      () => this.received,
    );
    labelledCounter(
      registry,
      'pairwise_requests_refused_total',
      'WebSocket requests answered with an error, by wire error code (the error table in SPEC.md).',
      'code',
      () => Object.fromEntries(this.refusals),
    );
    this.commitSends = new Histogram({
      name: 'pairwise_store_commit_batch_size',
      help: 'Sends per database commit (SQLite: one group commit; PostgreSQL: always 1), refused sends included.',
      buckets: BATCH_BUCKETS,
      registers,
    });
    this.commitSeconds = new Histogram({
      name: 'pairwise_store_commit_duration_seconds',
      help: 'Time from the start of a commit of sends to its end, in seconds: the wait a send adds before its sender hears "accepted".',
      buckets: COMMIT_SECONDS_BUCKETS,
      registers,
    });
    const depth: Gauge = new Gauge({
      name: 'pairwise_inbox_depth',
      help: 'Rows waiting in all inboxes of the store, undelivered or unacknowledged (the same on every node of one database).',
      registers,
      collect: async () => {
        // NaN, not a failed scrape: the process metrics stay visible while the database is down
        // (/readyz says which part failed).
        depth.set(this.sources === null ? 0 : await this.sources.inboxDepth().catch(() => Number.NaN));
      },
    });
    const connections: Gauge = new Gauge({
      name: 'pairwise_open_connections',
      help: 'WebSockets open on this node, signed in or not.',
      registers,
      collect: () => connections.set(this.sources?.openConnections() ?? 0),
    });
    const devices: Gauge = new Gauge({
      name: 'pairwise_authenticated_devices',
      help: 'Devices with at least one signed-in WebSocket on this node.',
      registers,
      collect: () => devices.set(this.sources?.authenticatedDevices() ?? 0),
    });
  }

  /** Where the gauges are read from; createServer gives its hub and store. */
  watch(sources: MetricSources): void {
    this.sources = sources;
  }

  /** A send was accepted and stored. */
  sendAccepted(): void {
    this.sends++;
  }

  /** An inbox row was pushed to a device. */
  deliveryPushed(): void {
    this.deliveries++;
  }

  /** A device acknowledged `rows` inbox rows. */
  acknowledged(rows: number): void {
    this.acks += rows;
  }

  /** An Authenticate was refused. */
  authFailed(reason: AuthFailure): void {
    this.authFailures[reason]++;
  }

  /** This node handed an event to the Bus. */
  busPublished(type: BusEventType): void {
    this.published[type]++;
  }

  /** This node's hub was handed an event (or a gap). */
  busReceived(type: BusReceivedType): void {
    this.received[type]++;
  }

  /** A request was answered with this error. */
  refused(code: WireErrorCode): void {
    this.refusals.set(code, (this.refusals.get(code) ?? 0) + 1);
  }

  /** A commit of `sends` sends took `seconds` (a `CommitObserver` for the store). */
  committed(sends: number, seconds: number): void {
    this.commitSends.observe(sends);
    this.commitSeconds.observe(seconds);
  }

  /** The exposition text, for GET /metrics. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  /** The exposition's content type. */
  get contentType(): string {
    return this.registry.contentType;
  }
}

/** A counter whose value is `read()` at scrape time. */
function counter(registry: Registry, name: string, help: string, read: () => number): void {
  const metric: Counter = new Counter({
    name,
    help,
    registers: [registry],
    collect: () => {
      metric.reset();
      metric.inc(read());
    },
  });
}

/** A counter with one label whose values and counts are `read()` at scrape time. */
function labelledCounter(registry: Registry, name: string, help: string, label: string, read: () => Readonly<Record<string, number>>): void {
  const metric: Counter<string> = new Counter({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect: () => {
      metric.reset();
      for (const [value, count] of Object.entries(read())) metric.inc({ [label]: value }, count);
    },
  });
}
