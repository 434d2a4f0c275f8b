/**
 * Sessions with peer devices, kept in memory and written to the store after every change, so a
 * restart resumes each ratchet where it was.
 *
 * A device may hold several sessions with one peer device: when both start a session at the same
 * time, each accepts the other's while its own is still in flight. The newest is "active" and
 * encrypts; decryption tries every kept session, and the one that works becomes active, so the
 * two sides settle on the same session after one round trip (as Signal's session archive does).
 *
 * Sessions are live objects that decrypting and encrypting change in memory; the receiver stores
 * a change only after the message it decrypted (SPEC RECEIVE-2). So whatever reads or changes the
 * sessions of one peer device runs `exclusive`ly: a send must not store, with its own step, a
 * receive's step whose message is not stored yet, and a receive that fails half-way `evict`s what
 * it changed in memory so that the row, delivered again, meets the stored state.
 * @module
 */
import { Session, type SessionRecord } from '@pairwise/crypto/session';
import { KeyedMutex } from '@pairwise/protocol/keyed-mutex';
import { StoreTable, type ClientStore } from './client-store.js';

/** Sessions kept per peer device: the active one and a few older ones still in use by the peer. */
export const MAX_SESSIONS_PER_DEVICE = 4;

interface StoredSessions {
  readonly version: 1;
  /** Active first. */
  readonly sessions: readonly SessionRecord[];
}

/**
 * A stored session, or `null` for one this code no longer reads: a version 1 session, whose
 * associated data named no accounts (protocol version 1), starts again with PQXDH.
 */
function restoreOrDrop(record: SessionRecord): Session | null {
  try {
    return Session.restore(record);
  } catch (error) {
    if (error instanceof TypeError) return null;
    throw error;
  }
}

const keyOf = (accountId: string, deviceId: string): string => `${accountId}/${deviceId}`;

export class SessionCache {
  private readonly live = new Map<string, Session[]>();
  private readonly turns = new KeyedMutex();

  constructor(private readonly store: ClientStore) {}

  /** Runs `work` alone for this peer device: no other `exclusive` work on its sessions meanwhile. Not re-entrant. */
  exclusive<T>(accountId: string, deviceId: string, work: () => Promise<T>): Promise<T> {
    return this.turns.run(keyOf(accountId, deviceId), work);
  }

  /** Forgets in-memory changes to the device's sessions: the next use reads what is stored. */
  evict(accountId: string, deviceId: string): void {
    this.live.delete(keyOf(accountId, deviceId));
  }

  /** Every session with the device, the active one first. */
  async all(accountId: string, deviceId: string): Promise<readonly Session[]> {
    const key = keyOf(accountId, deviceId);
    const cached = this.live.get(key);
    if (cached) return cached;
    const stored = await this.store.get<StoredSessions>(StoreTable.Sessions, key);
    // Another call may have filled (and changed) the cache while this one read: keep its sessions.
    const meanwhile = this.live.get(key);
    if (meanwhile) return meanwhile;
    const sessions = stored?.version === 1 ? stored.sessions.map(restoreOrDrop).filter((session) => session !== null) : [];
    this.live.set(key, sessions);
    return sessions;
  }

  /** The session to encrypt with, or `null`. */
  async active(accountId: string, deviceId: string): Promise<Session | null> {
    return (await this.all(accountId, deviceId))[0] ?? null;
  }

  /**
   * Records a change to `session` and makes it the active one (a new session, or one that just
   * decrypted a message), dropping the oldest beyond MAX_SESSIONS_PER_DEVICE. With `persist`
   * false it changes only what is in memory: the receiver stores the message first and then
   * calls `save`, so that a crash in between costs a repeat, never a message (SPEC RECEIVE-2).
   */
  async promote(accountId: string, deviceId: string, session: Session, persist = true): Promise<void> {
    const others = (await this.all(accountId, deviceId)).filter((candidate) => candidate !== session);
    const sessions = [session, ...others].slice(0, MAX_SESSIONS_PER_DEVICE);
    this.live.set(keyOf(accountId, deviceId), sessions);
    if (persist) await this.persist(accountId, deviceId, sessions);
  }

  /** Records a change to a session without changing which one is active (after encrypting). */
  async save(accountId: string, deviceId: string): Promise<void> {
    await this.persist(accountId, deviceId, await this.all(accountId, deviceId));
  }

  /** Forgets every session with devices that left (or whose account key changed). */
  async drop(accountId: string, deviceIds: readonly string[]): Promise<void> {
    for (const deviceId of deviceIds) {
      await this.exclusive(accountId, deviceId, async () => {
        const key = keyOf(accountId, deviceId);
        this.live.delete(key);
        await this.store.delete(StoreTable.Sessions, key);
      });
    }
  }

  private async persist(accountId: string, deviceId: string, sessions: readonly Session[]): Promise<void> {
    const value: StoredSessions = { version: 1, sessions: sessions.map((session) => session.snapshot()) };
    await this.store.put(StoreTable.Sessions, keyOf(accountId, deviceId), value);
  }
}
