/**
 * Ids of messages already handled, by "senderDeviceId/clientMessageId", so that a row the server
 * delivers again (a lost acknowledgement, or a replay) is dropped instead of shown twice
 * (SPEC INBOX-5), and kept only as long as replay protection needs them (SPEC SEEN-1).
 *
 * The ratchet itself refuses a Normal message it has read. What only this table stops is a
 * PreKey message sent again after its session was dropped: without a one-time prekey it would set
 * up a second session and show the message twice. It can do so only while the signed prekey it
 * names exists (at most SIGNED_PREKEY_ROTATION_MS + PREKEY_GRACE_MS). So the id of a message that
 * started a session is kept with that signed prekey's id, for as long as the prekey exists; other
 * ids are kept SEEN_TTL_MS. Each kind is bounded in count (the newest stay): only a hostile
 * contact sends more first messages than that within a prekey's life.
 * @module
 */
import { PREKEY_GRACE_MS, SIGNED_PREKEY_ROTATION_MS } from '@pairwise/protocol/limits';
import { StoreTable, type ClientStore } from './client-store.js';

/** How long the id of a message that did not start a session is kept. */
export const SEEN_TTL_MS = SIGNED_PREKEY_ROTATION_MS + PREKEY_GRACE_MS;
/** Most ids kept of each kind; about 5 MB each in IndexedDB. */
export const MAX_SEEN_IDS = 50_000;

/** A stored entry: when it came, and for a message that started a session, the signed prekey it named. */
interface SeenEntry {
  readonly at: number;
  readonly signedPreKeyId: number;
}

/** The seen-ids table of one device. */
export class SeenIds {
  constructor(private readonly store: ClientStore) {}

  async has(key: string): Promise<boolean> {
    return (await this.store.get<unknown>(StoreTable.Seen, key)) !== undefined;
  }

  /** Records a handled message; `signedPreKeyId` when it started a session under that prekey. */
  async add(key: string, at: number, signedPreKeyId: number | null = null): Promise<void> {
    if (signedPreKeyId === null) await this.store.put(StoreTable.Seen, key, at);
    else await this.store.put<SeenEntry>(StoreTable.Seen, key, { at, signedPreKeyId });
  }

  /**
   * Forgets the ids replay protection no longer needs: of messages that started a session once
   * their signed prekey is gone, of others after SEEN_TTL_MS, and of each kind the oldest beyond
   * MAX_SEEN_IDS. Returns how many went.
   */
  async prune(now: number): Promise<number> {
    const entries = await this.store.list<unknown>(StoreTable.Seen);
    const sessionStarts: [string, number][] = [];
    const others: [string, number][] = [];
    const doomed: string[] = [];
    const prekeyExists = new Map<number, boolean>();
    for (const [key, value] of entries) {
      if (typeof value === 'number') {
        if (value < now - SEEN_TTL_MS) doomed.push(key);
        else others.push([key, value]);
        continue;
      }
      const entry = value as Partial<SeenEntry> | null;
      const id = entry?.signedPreKeyId;
      // A value of no known shape cannot be judged: it goes.
      if (typeof entry?.at !== 'number' || typeof id !== 'number') {
        doomed.push(key);
        continue;
      }
      if (!prekeyExists.has(id)) prekeyExists.set(id, (await this.store.get(StoreTable.PreKeys, `signed:${id}`)) !== undefined);
      if (prekeyExists.get(id)) sessionStarts.push([key, entry.at]);
      else doomed.push(key);
    }
    for (const kind of [sessionStarts, others]) {
      kind.sort((a, b) => b[1] - a[1]);
      doomed.push(...kind.slice(MAX_SEEN_IDS).map(([key]) => key));
    }
    for (const key of doomed) await this.store.delete(StoreTable.Seen, key);
    return doomed.length;
  }
}
