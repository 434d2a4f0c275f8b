/**
 * This node's live connections, and what it does with each Bus event. Every node subscribes to
 * the Bus; an event is acted on by whichever node holds the sockets concerned. Deliveries are
 * read from the store, the one source of truth, so a node that missed an event still delivers
 * everything at the device's next connect; only a row a send on this node has just stored, for a
 * connection that is caught up, is pushed as it was stored (`stored`).
 * @module
 */
import { CLOSE_LOGGED_OUT } from '@pairwise/protocol/errors';
import { TEMPORARY_SESSION_GRACE_MS } from '@pairwise/protocol/limits';
import { securityOf } from '../account-security.js';
import type { BusEvent, BusGap } from '../bus/bus.js';
import type { ServerContext } from '../context.js';
import { accountDevices } from '../handlers/account-devices.js';
import { inboxRowToDeliver } from '../handlers/convert.js';
import { removeTemporaryDeviceIfGone, temporaryDeviceWentAway } from '../temporary-sessions.js';
import type { InboxRow } from '../store/store.js';
import type { Connection } from './connection.js';

/**
 * Rows read from the store per round of a pump: at most 4 MiB of the largest messages held in
 * memory per connection at a time.
 */
const PUMP_BATCH = 64;
/** A pump stops when this many pushed rows are unacknowledged, and resumes on acks. */
const MAX_UNACKED = 1000;
/** A temporary device is checked this long after its last socket closed (the grace, and a margin). */
const TEMPORARY_CHECK_DELAY_MS = TEMPORARY_SESSION_GRACE_MS + 1000;

interface PumpState {
  running: boolean;
  again: boolean;
  /** Stopped because the socket's send buffer was full; the next drain starts it again. */
  waitingForDrain: boolean;
  /** Stopped at MAX_UNACKED; the next acknowledgement starts it again. */
  waitingForAcks: boolean;
  unacked: Set<number>;
}

export class Hub {
  /** Every open socket, signed in or not (for the metrics). */
  private readonly open = new Set<Connection>();
  private readonly byDevice = new Map<string, Set<Connection>>();
  private readonly byAccount = new Map<string, Set<Connection>>();
  private readonly linkWaiters = new Map<string, Connection>();
  private readonly pumps = new WeakMap<Connection, PumpState>();
  /** Removal checks of temporary devices whose last socket here closed (SPEC TEMP-1). */
  private readonly temporaryChecks = new Map<string, NodeJS.Timeout>();
  private ctx: ServerContext | null = null;
  private unsubscribe: (() => void) | null = null;

  /** Connects the hub to the rest of the server and starts listening to the Bus. */
  attach(ctx: ServerContext): void {
    this.ctx = ctx;
    this.unsubscribe = ctx.bus.subscribe((event) => {
      this.handle(event).catch((error: unknown) => ctx.log.error({ err: String(error), event: event.type }, 'bus event failed'));
    });
  }

  detach(): void {
    this.unsubscribe?.();
    for (const timer of this.temporaryChecks.values()) clearTimeout(timer);
    this.temporaryChecks.clear();
  }

  /**
   * Counts a socket that has just opened, until it closes: not until `remove`, which also undoes
   * a sign-in that failed half-way on a socket that stays open.
   */
  opened(connection: Connection): void {
    this.open.add(connection);
    connection.onClose(() => this.open.delete(connection));
  }

  /** Sockets open on this node, signed in or not. */
  get openConnections(): number {
    return this.open.size;
  }

  /** Devices with at least one signed-in socket on this node. */
  get authenticatedDevices(): number {
    return this.byDevice.size;
  }

  /**
   * Registers an authenticated connection, so that revocations and notices reach it from now on.
   * Its inbox is delivered once `startDelivery` is called (after the "authenticated" response,
   * so that the device is ready to acknowledge what it receives).
   */
  addDevice(connection: Connection): void {
    const device = connection.device;
    if (device === null) throw new Error('only authenticated connections are registered');
    addTo(this.byDevice, device.deviceId, connection);
    addTo(this.byAccount, device.accountId, connection);
  }

  /** Starts pushing the connection's inbox. */
  startDelivery(connection: Connection): void {
    const state: PumpState = { running: false, again: false, waitingForDrain: false, waitingForAcks: false, unacked: new Set() };
    this.pumps.set(connection, state);
    connection.onDrain(() => {
      if (!state.waitingForDrain) return;
      state.waitingForDrain = false;
      this.wake(connection);
    });
    this.wake(connection);
  }

  /**
   * Rows a send on this node has just committed (SPEC INBOX-7). A connection of their device
   * whose pump is idle (and not waiting for a drain), with room to push, and which has pushed everything up to the row's
   * `previousSeq` gets the row at once, without a read of the inbox: no row of the device lies
   * between (the store read `previousSeq` under the device's writer lock), and a row deleted in
   * between was acknowledged by the device or expired, so it is not owed. Any other connection
   * is left to the `inbox` event, which wakes its pump.
   */
  stored(rows: readonly { readonly row: InboxRow; readonly previousSeq: number | null }[]): void {
    for (const { row, previousSeq } of rows) {
      for (const connection of this.byDevice.get(row.deviceId) ?? []) {
        const state = this.pumps.get(connection);
        if (state === undefined || state.running || state.waitingForDrain || connection.isClosed || !connection.canPush || state.unacked.size >= MAX_UNACKED) continue;
        if (row.seq <= connection.lastPushedSeq || (previousSeq ?? 0) > connection.lastPushedSeq) continue;
        this.push(connection, state, row);
      }
    }
  }

  /**
   * A companion waits here for the primary's approval of any of its live link tokens: the phone
   * may approve a code scanned just before the screen showed the next one.
   */
  waitForLink(tokenHash: string, connection: Connection): void {
    connection.pendingLinks.add(tokenHash);
    this.linkWaiters.set(tokenHash, connection);
  }

  private stopWaiting(connection: Connection): void {
    for (const hash of connection.pendingLinks) if (this.linkWaiters.get(hash) === connection) this.linkWaiters.delete(hash);
    connection.pendingLinks.clear();
  }

  /** Forgets a closed connection. */
  remove(connection: Connection): void {
    // A companion that went away can no longer receive its link bundle: its codes die with it,
    // so that the phone is told the code expired instead of linking a device that never arrives.
    for (const hash of connection.pendingLinks) {
      this.ctx?.store.deletePendingLink(Buffer.from(hash, 'hex')).catch(() => {});
    }
    this.stopWaiting(connection);
    const device = connection.device;
    if (device === null) return;
    const wasHere = removeFrom(this.byDevice, device.deviceId, connection);
    removeFrom(this.byAccount, device.accountId, connection);
    if (wasHere && device.temporary && !this.isOnline(device.deviceId)) this.temporaryGone(device.deviceId);
  }

  /** A temporary device's last socket here closed: its minute starts (SPEC TEMP-1). */
  private temporaryGone(deviceId: string): void {
    const ctx = this.ctx;
    if (ctx === null) return;
    const fail = (error: unknown) => ctx.log.error({ err: String(error) }, 'temporary session check failed');
    temporaryDeviceWentAway(ctx, deviceId).catch(fail);
    clearTimeout(this.temporaryChecks.get(deviceId));
    const timer = setTimeout(() => {
      this.temporaryChecks.delete(deviceId);
      removeTemporaryDeviceIfGone(ctx, deviceId).catch(fail);
    }, TEMPORARY_CHECK_DELAY_MS);
    timer.unref();
    this.temporaryChecks.set(deviceId, timer);
  }

  /** Whether any connection of the device is open on this node. */
  isOnline(deviceId: string): boolean {
    return (this.byDevice.get(deviceId)?.size ?? 0) > 0;
  }

  /** Every connection of a device on this node. */
  connectionsOf(deviceId: string): Connection[] {
    return [...(this.byDevice.get(deviceId) ?? [])];
  }

  /** All open connections on this node (for activity updates). */
  allDevices(): Connection[] {
    return [...this.byDevice.values()].flatMap((set) => [...set]);
  }

  /**
   * The device acknowledged these rows. A pump that stopped at MAX_UNACKED goes on; one that did
   * not has nothing new to read because of an acknowledgement (new rows wake it themselves).
   */
  acknowledged(connection: Connection, seqs: readonly number[]): void {
    const state = this.pumps.get(connection);
    if (!state) return;
    for (const seq of seqs) state.unacked.delete(seq);
    if (!state.waitingForAcks) return;
    state.waitingForAcks = false;
    this.wake(connection);
  }

  /** Closes every connection (server shutdown). */
  closeAll(code: number, reason: string): void {
    for (const connection of this.allDevices()) connection.close(code, reason);
    for (const connection of this.linkWaiters.values()) connection.close(code, reason);
  }

  private async handle(event: BusEvent | BusGap): Promise<void> {
    const ctx = this.context();
    switch (event.type) {
      case 'gap':
        await this.catchUp();
        return;
      case 'inbox':
        event.deviceIds.forEach((deviceId, i) => {
          const seq = event.seqs?.[i];
          for (const connection of this.connectionsOf(deviceId)) {
            // Already pushed (by `stored`, on the node that took the send): nothing to read.
            if (seq !== undefined && connection.lastPushedSeq >= seq) continue;
            this.wake(connection);
          }
        });
        return;
      case 'revoke':
        for (const connection of this.connectionsOf(event.deviceId)) {
          connection.push({ body: { case: 'loggedOut', value: { reason: event.reason } } });
          connection.close(CLOSE_LOGGED_OUT, 'LOGGED_OUT');
        }
        return;
      case 'link-approved': {
        const waiter = this.linkWaiters.get(event.tokenHash);
        if (!waiter) return;
        this.stopWaiting(waiter);
        waiter.push({ body: { case: 'linkApproved', value: { accountId: event.accountId, sealedBundle: event.sealedBundle } } });
        return;
      }
      case 'device-list': {
        const targets = [event.accountId, ...(await ctx.store.listContactAccounts(event.accountId))];
        const local = targets.flatMap((accountId) => [...(this.byAccount.get(accountId) ?? [])]);
        if (local.length === 0) return;
        const account = await accountDevices(ctx, event.accountId);
        if (account === null) return;
        for (const connection of local) connection.push({ body: { case: 'deviceListChanged', value: { account } } });
        return;
      }
      case 'device-removed':
        for (const connection of this.byAccount.get(event.accountId) ?? []) {
          if (connection.device?.kind === 'primary') {
            connection.push({ body: { case: 'deviceRemoved', value: { deviceId: event.deviceId, reason: event.reason } } });
          }
        }
        return;
      case 'prekeys-low':
        for (const connection of this.connectionsOf(event.deviceId)) {
          connection.push({ body: { case: 'preKeysLow', value: { remaining: event.remaining, pqRemaining: event.pqRemaining } } });
        }
        return;
      case 'security': {
        const local = [...(this.byAccount.get(event.accountId) ?? [])];
        if (local.length === 0) return;
        const security = await securityOf(ctx, event.accountId);
        if (security === null) return;
        for (const connection of local) connection.push({ body: { case: 'securityChanged', value: { security, alert: event.alert } } });
        return;
      }
    }
  }

  /**
   * After the Bus may have lost events (SPEC BUS-3): every connection here reads its inbox again,
   * and a device that was removed meanwhile is logged out as its revocation would have done.
   * Device-list and security notices are state the devices read again at their next connect.
   */
  private async catchUp(): Promise<void> {
    const ctx = this.context();
    for (const [deviceId, connections] of [...this.byDevice]) {
      // One device the store cannot answer for holds back none of the others.
      const device = await ctx.store.getDevice(deviceId).catch((error: unknown) => {
        ctx.log.error({ err: String(error) }, 'catch-up after a bus gap failed for a device');
        return undefined;
      });
      if (device === undefined) continue;
      for (const connection of [...connections]) {
        if (device === null) {
          connection.push({ body: { case: 'loggedOut', value: { reason: 'removed' } } });
          connection.close(CLOSE_LOGGED_OUT, 'LOGGED_OUT');
        } else this.wake(connection);
      }
    }
  }

  /**
   * Runs the connection's pump. A failure (the store unreachable, a row it cannot read) is logged
   * and waits for the next wake-up; it never becomes an unhandled rejection, which would stop the
   * process.
   */
  private wake(connection: Connection): void {
    this.pump(connection).catch((error: unknown) => {
      this.ctx?.log.error({ err: error instanceof Error ? error.name : String(error) }, 'inbox delivery failed');
    });
  }

  /**
   * Pushes the device's inbox rows after the last one pushed on this connection, in seq order,
   * pausing while MAX_UNACKED are outstanding and while the socket's send buffer holds
   * PUSH_BUFFER_BYTES (SPEC LIMIT-1): a device that does not read holds at most that much of the
   * server's memory, however large its inbox. One pump runs per connection; a call while it runs
   * makes it go round once more.
   */
  private async pump(connection: Connection): Promise<void> {
    const state = this.pumps.get(connection);
    const device = connection.device;
    if (!state || device === null) return;
    if (state.running) {
      state.again = true;
      return;
    }
    state.running = true;
    try {
      do {
        state.again = false;
        while (!connection.isClosed && state.unacked.size < MAX_UNACKED) {
          if (!connection.canPush) {
            state.waitingForDrain = true;
            break;
          }
          const limit = Math.min(PUMP_BATCH, MAX_UNACKED - state.unacked.size);
          const rows = await this.context().store.readInbox(device.deviceId, connection.lastPushedSeq, limit);
          let pushed = 0;
          // Rows left over when the buffer fills are read again after the drain.
          for (const row of rows) {
            if (!connection.canPush || connection.isClosed) break;
            this.push(connection, state, row);
            pushed++;
          }
          if (pushed < rows.length) continue;
          if (rows.length < limit) break;
        }
      } while (state.again && !connection.isClosed);
      if (state.unacked.size >= MAX_UNACKED) state.waitingForAcks = true;
    } finally {
      state.running = false;
    }
  }

  /** Pushes one row, the next in seq order for this connection. */
  private push(connection: Connection, state: PumpState, row: InboxRow): void {
    state.unacked.add(row.seq);
    connection.lastPushedSeq = row.seq;
    connection.push({ body: { case: 'deliver', value: inboxRowToDeliver(row) } });
    this.context().metrics.deliveryPushed();
  }

  private context(): ServerContext {
    if (this.ctx === null) throw new Error('hub is not attached');
    return this.ctx;
  }
}

function addTo<K>(map: Map<K, Set<Connection>>, key: K, connection: Connection): void {
  const set = map.get(key) ?? new Set<Connection>();
  set.add(connection);
  map.set(key, set);
}

/** Returns whether the connection was there. */
function removeFrom<K>(map: Map<K, Set<Connection>>, key: K, connection: Connection): boolean {
  const set = map.get(key);
  if (!set) return false;
  const had = set.delete(connection);
  if (set.size === 0) map.delete(key);
  return had;
}
