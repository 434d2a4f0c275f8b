/**
 * The Bus between several nodes, over core NATS publish/subscribe (SPEC BUS-1..BUS-5).
 *
 * At most once, on purpose: the store is where deliveries come from, so an event only says
 * "look again". A node hands its own events to its own subscribers directly (NATS echo is off),
 * so that one node keeps working while the broker is away; the others hear them through NATS.
 * Whenever this node may have missed events (its connection dropped and came back, which is
 * also what the broker does to a node too slow to keep up), its subscribers are told of a gap and
 * catch up from the store.
 * @module
 */
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { Bus, BusEvent, BusGap } from './bus.js';
import { decodeBusEvent, encodeBusEvent } from './bus-codec.js';
import { natsAddress } from './nats-address.js';

/** What the bus reports on; message content is never logged, only why a message was dropped. */
export interface BusLogger {
  warn(details: object, message: string): void;
  info(details: object, message: string): void;
}

export interface NatsBusOptions {
  /** nats:// or tls:// URL, possibly with credentials. */
  readonly url: string;
  /** Subject the nodes of one installation share (NATS_SUBJECT). */
  readonly subject: string;
  /** A name for this node's connection, shown by the NATS server's monitoring. */
  readonly name: string;
  readonly log: BusLogger;
  /** How long the first connection may take before the server gives up starting, in ms. */
  readonly connectTimeoutMs?: number;
}

/** A lost broker is retried this often, for ever: nodes keep serving from the store meanwhile. */
const RECONNECT_WAIT_MS = 250;
/** Pings every this many ms; two unanswered pings count as a dropped connection. */
const PING_INTERVAL_MS = 5_000;
const GAP: BusGap = { type: 'gap' };
/** Events held for the other nodes while the broker is away: about 1 MiB of the node's memory. */
const MAX_HELD_WHILE_AWAY = 10_000;

/** Several nodes' Bus (NATS_URL). */
export class NatsBus implements Bus {
  readonly kind = 'nats';
  private readonly handlers = new Set<(event: BusEvent | BusGap) => void>();
  private connected = true;
  private subscribed = true;
  private closing = false;
  /** Events published since the broker went away, held by the client until it is back. */
  private heldWhileAway = 0;

  private constructor(
    private readonly connection: NatsConnection,
    private readonly subject: string,
    private readonly log: BusLogger,
  ) {}

  /** Connects; throws when the broker cannot be reached at start (the operator sees why). */
  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const { server, user, pass, token, tls } = natsAddress(options.url);
    const connection = await connect({
      servers: server,
      ...(user === undefined ? {} : { user, pass }),
      ...(token === undefined ? {} : { token }),
      // An empty TLS options object makes TLS required, whatever the broker's greeting says.
      ...(tls ? { tls: {} } : {}),
      name: options.name,
      noEcho: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: RECONNECT_WAIT_MS,
      pingInterval: PING_INTERVAL_MS,
      maxPingOut: 2,
      timeout: options.connectTimeoutMs ?? 10_000,
    });
    const bus = new NatsBus(connection, options.subject, options.log);
    bus.listen(connection.subscribe(options.subject));
    // The subscription is sent to the broker asynchronously: a round trip makes sure it is in
    // place before this node says it is up, so that it hears what others publish from then on.
    await connection.flush();
    bus.watchStatus().catch((error: unknown) => options.log.warn({ err: error instanceof Error ? error.message : 'ended' }, 'bus status stopped'));
    return bus;
  }

  publish(event: BusEvent): Promise<void> {
    this.deliver(event);
    if (!this.connected) {
      // While the broker is away the client holds what is published, without a bound of its own,
      // and sends it on reconnection. Past MAX_HELD_WHILE_AWAY the others miss these wake-ups
      // (their devices get the rows at the next event for them or their next connect).
      if (this.heldWhileAway >= MAX_HELD_WHILE_AWAY) {
        if (this.heldWhileAway++ === MAX_HELD_WHILE_AWAY) this.log.warn({ held: MAX_HELD_WHILE_AWAY }, 'bus away for long: further events are not kept for the other nodes');
        return Promise.resolve();
      }
      this.heldWhileAway++;
    }
    try {
      this.connection.publish(this.subject, encodeBusEvent(event));
    } catch (error) {
      // Closed: the other nodes miss this one and deliver from the store at
      // their devices' next connect or gap.
      this.log.warn({ err: String(error), event: event.type }, 'bus event not published');
    }
    return Promise.resolve();
  }

  subscribe(handler: (event: BusEvent | BusGap) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  isConnected(): boolean {
    return this.connected && this.subscribed && !this.connection.isClosed();
  }

  async close(): Promise<void> {
    this.closing = true;
    this.handlers.clear();
    if (this.connection.isClosed()) return;
    // Drain sends what was published and waits for it, so that a node that stops gracefully
    // tells the others everything it did before going.
    await this.connection.drain().catch(() => {});
  }

  /** On a later tick, like the in-process Bus: publishers never run subscriber code. */
  private deliver(event: BusEvent | BusGap): void {
    queueMicrotask(() => {
      for (const handler of this.handlers) handler(event);
    });
  }

  private listen(subscription: Subscription): void {
    const heard = async () => {
      for await (const message of subscription) {
        let event: BusEvent;
        try {
          event = decodeBusEvent(message.data);
        } catch (error) {
          this.log.warn({ err: String(error) }, 'bus message dropped');
          continue;
        }
        for (const handler of this.handlers) handler(event);
      }
    };
    heard().then(
      () => this.subscriptionEnded(null),
      (error: unknown) => this.subscriptionEnded(error),
    );
  }

  /**
   * The subscription ended: at close, or because the broker refused it (permissions). A node that
   * no longer hears the others is not ready (`/readyz`), and says why.
   */
  private subscriptionEnded(error: unknown): void {
    if (this.closing) return;
    this.subscribed = false;
    this.log.warn({ err: error instanceof Error ? error.message : 'ended' }, 'bus subscription ended: this node no longer hears the other nodes');
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.connection.status()) {
      if (status.type === 'disconnect') {
        this.connected = false;
        this.log.warn({}, 'bus disconnected; delivering from the store until it is back');
      } else if (status.type === 'reconnect') {
        // The subscription is sent again on reconnection; a round trip makes sure the broker has
        // it before the catch-up reads the store, or an event in between would be missed unseen.
        await this.connection.flush().catch(() => {});
        this.connected = true;
        this.heldWhileAway = 0;
        this.log.info({}, 'bus reconnected');
        this.deliver(GAP);
      } else if (status.type === 'close') {
        this.connected = false;
        if (!this.closing) this.log.warn({}, 'bus connection closed for good: this node no longer hears the other nodes');
        return;
      }
    }
  }
}
