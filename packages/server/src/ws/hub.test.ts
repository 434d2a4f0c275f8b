import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { CLOSE_LOGGED_OUT } from '@pairwise/protocol/errors';
import type { Bus, BusEvent, BusGap } from '../bus/bus.js';
import { accountFixture, closeAccountFixtures } from '../test-support/account-fixture.js';
import type { DeviceRow } from '../store/store.js';
import type { Connection } from './connection.js';

afterEach(closeAccountFixtures);

/** A Bus that loses every event and can be told to report a gap, as a NATS Bus does after a reconnect. */
class LossyBus implements Bus {
  readonly kind = 'nats';
  private readonly handlers = new Set<(event: BusEvent | BusGap) => void>();
  publish(): Promise<void> {
    return Promise.resolve();
  }
  subscribe(handler: (event: BusEvent | BusGap) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }
  isConnected(): boolean {
    return true;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  gap(): void {
    for (const handler of this.handlers) handler({ type: 'gap' });
  }
  /** Hands the subscribers an event, as the broker would. */
  emit(event: BusEvent): void {
    for (const handler of this.handlers) handler(event);
  }
}

type Fixture = Awaited<ReturnType<typeof accountFixture>>;

/** The laptop (attested first) stores a copy for the phone, as a send on another node would. */
async function storeCopyFromLaptop({ store, ids, ctx }: Pick<Fixture, 'store' | 'ids' | 'ctx'>): Promise<void> {
  expect(await store.setAttestation(ids.companion, new Uint8Array(randomBytes(64)))).toBe(true);
  const now = ctx.clock.now();
  const stored = await store.enqueue({
    senderAccountId: 'alice',
    senderDeviceId: ids.companion,
    recipientAccountId: 'alice',
    clientMessageId: new Uint8Array(randomBytes(16)),
    envelopes: [{ deviceId: ids.primary, content: new Uint8Array([1, 2, 3]) }],
    now,
    expiresAt: now + 86_400_000,
  });
  expect(stored).toMatchObject({ status: 'accepted' });
}

/** What the hub did to one socket. */
interface FakeConnection {
  readonly pushed: unknown[];
  closedWith: number | null;
}

function fakeConnection(device: DeviceRow): { connection: Connection; seen: FakeConnection } {
  const seen: FakeConnection = { pushed: [], closedWith: null };
  const connection = {
    device,
    pendingLinks: new Set<string>(),
    lastPushedSeq: 0,
    canPush: true,
    get isClosed() {
      return seen.closedWith !== null;
    },
    onDrain: () => {},
    push: (frame: unknown) => seen.pushed.push(frame),
    close: (code: number) => (seen.closedWith = code),
  };
  return { connection: connection as unknown as Connection, seen };
}

describe('[BUS-3] the hub after a gap in the Bus', () => {
  it('delivers rows whose wake-up was lost and logs out a device removed meanwhile', async () => {
    const bus = new LossyBus();
    const { ctx, store, ids } = await accountFixture();
    ctx.hub.detach();
    ctx.hub.attach({ ...ctx, bus });
    const primaryRow = await store.getDevice(ids.primary);
    const companionRow = await store.getDevice(ids.companion);
    if (primaryRow === null || companionRow === null) throw new Error('fixture devices missing');
    const phone = fakeConnection(primaryRow);
    const laptop = fakeConnection(companionRow);
    for (const { connection } of [phone, laptop]) {
      ctx.hub.addDevice(connection);
      ctx.hub.startDelivery(connection);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(phone.seen.pushed).toEqual([]);

    // On another node the laptop sends the phone a copy and is then removed; both events are lost.
    await storeCopyFromLaptop({ store, ids, ctx });
    expect(await store.removeDevice(ids.companion, null)).toBe('removed');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(phone.seen.pushed).toEqual([]);
    expect(laptop.seen.closedWith).toBeNull();

    bus.gap();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(phone.seen.pushed).toHaveLength(1);
    expect(phone.seen.pushed[0]).toMatchObject({ body: { case: 'deliver' } });
    expect(phone.seen.closedWith).toBeNull();
    expect(laptop.seen.closedWith).toBe(CLOSE_LOGGED_OUT);
    expect(laptop.seen.pushed).toEqual([{ body: { case: 'loggedOut', value: { reason: 'removed' } } }]);
  });
});

describe('the hub when the store fails', () => {
  it('logs a delivery that fails and keeps the process up, then delivers at the next wake-up', async () => {
    const { ctx, store, ids } = await accountFixture();
    const errors: string[] = [];
    let failing = true;
    const flaky = new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'readInbox' && failing) return () => Promise.reject(new Error('the database is away'));
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    ctx.hub.detach();
    const log = Object.create(ctx.log) as typeof ctx.log;
    log.error = ((_details: object, message: string) => void errors.push(message)) as typeof log.error;
    ctx.hub.attach({ ...ctx, store: flaky, log });
    const primaryRow = await store.getDevice(ids.primary);
    if (primaryRow === null) throw new Error('fixture device missing');
    const phone = fakeConnection(primaryRow);
    ctx.hub.addDevice(phone.connection);
    // An unhandled rejection here would fail the test run (and stop a server).
    ctx.hub.startDelivery(phone.connection);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(errors).toEqual(['inbox delivery failed']);

    failing = false;
    await storeCopyFromLaptop({ store, ids, ctx });
    await ctx.bus.publish({ type: 'inbox', deviceIds: [ids.primary] });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(phone.seen.pushed).toHaveLength(1);
  });
});

describe('[INBOX-7] rows pushed as they are stored', () => {
  /** The fixture with a hub whose store counts its inbox reads, and the phone connected to it. */
  async function countingHub() {
    const fixture = await accountFixture();
    const { ctx, store, ids } = fixture;
    const reads = { count: 0 };
    const counting = new Proxy(store, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (property === 'readInbox') {
          return (...args: Parameters<typeof store.readInbox>) => {
            reads.count++;
            return store.readInbox(...args);
          };
        }
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const bus = new LossyBus();
    ctx.hub.detach();
    ctx.hub.attach({ ...ctx, store: counting, bus });
    const primaryRow = await store.getDevice(ids.primary);
    const companionRow = await store.getDevice(ids.companion);
    if (primaryRow === null || companionRow === null) throw new Error('fixture devices missing');
    expect(await store.setAttestation(ids.companion, new Uint8Array(randomBytes(64)))).toBe(true);
    const phone = fakeConnection(primaryRow);
    ctx.hub.addDevice(phone.connection);
    ctx.hub.startDelivery(phone.connection);
    await new Promise((resolve) => setTimeout(resolve, 20));
    return { ...fixture, reads, phone, bus, laptop: companionRow };
  }

  /** Stores a message from the laptop to the phone, and what the hub is told of it. */
  async function store(fixture: Awaited<ReturnType<typeof countingHub>>, content: number) {
    const { ctx, ids } = fixture;
    const now = ctx.clock.now();
    const input = {
      senderAccountId: 'alice',
      senderDeviceId: ids.companion,
      recipientAccountId: 'alice',
      clientMessageId: new Uint8Array(randomBytes(16)),
      envelopes: [{ deviceId: ids.primary, content: new Uint8Array([content]) }],
      now,
      expiresAt: now + 86_400_000,
    };
    const result = await fixture.store.enqueue(input);
    if (result.status !== 'accepted') throw new Error(`not accepted: ${result.status}`);
    const [{ seq, previousSeq }] = result.seqs as [(typeof result.seqs)[0]];
    const row = {
      seq,
      deviceId: ids.primary,
      serverTime: now,
      item: { kind: 'message' as const, senderAccountId: 'alice', senderDeviceId: ids.companion, clientMessageId: input.clientMessageId, content: input.envelopes[0]!.content },
    };
    return { row, previousSeq };
  }

  const delivered = (pushed: unknown[]) => pushed.map((frame) => (frame as { body: { value: { seq: number } } }).body.value.seq);

  it('a connection that has pushed everything gets each new row without a read of the inbox', async () => {
    const fixture = await countingHub();
    const readsAfterConnect = fixture.reads.count;
    expect(readsAfterConnect).toBeGreaterThan(0);
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const stored = await store(fixture, i);
      fixture.ctx.hub.stored([stored]);
      seqs.push(stored.row.seq);
    }
    expect(delivered(fixture.phone.seen.pushed)).toEqual(seqs);
    expect(fixture.reads.count).toBe(readsAfterConnect);
  });

  it('a row stored behind one the connection has not pushed waits for the pump, which delivers both in order', async () => {
    const fixture = await countingHub();
    // A row stored on another node, whose event has not arrived yet.
    const missed = await store(fixture, 1);
    const next = await store(fixture, 2);
    expect(next.previousSeq).toBe(missed.row.seq);
    fixture.ctx.hub.stored([next]);
    expect(fixture.phone.seen.pushed).toEqual([]);
    // The events wake the pump, which reads both from the store.
    const reads = fixture.reads.count;
    fixture.bus.emit({ type: 'inbox', deviceIds: [fixture.ids.primary], seqs: [next.row.seq] });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(delivered(fixture.phone.seen.pushed)).toEqual([missed.row.seq, next.row.seq]);
    expect(fixture.reads.count).toBeGreaterThan(reads);
  });

  it('an inbox event for rows the connection has pushed reads nothing; one for a newer row reads it', async () => {
    const fixture = await countingHub();
    const first = await store(fixture, 1);
    fixture.ctx.hub.stored([first]);
    expect(delivered(fixture.phone.seen.pushed)).toEqual([first.row.seq]);
    const reads = fixture.reads.count;
    fixture.bus.emit({ type: 'inbox', deviceIds: [fixture.ids.primary], seqs: [first.row.seq] });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fixture.reads.count).toBe(reads);
    const second = await store(fixture, 2);
    fixture.bus.emit({ type: 'inbox', deviceIds: [fixture.ids.primary], seqs: [second.row.seq] });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fixture.reads.count).toBeGreaterThan(reads);
    expect(delivered(fixture.phone.seen.pushed)).toEqual([first.row.seq, second.row.seq]);
  });
});
