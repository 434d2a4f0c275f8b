/**
 * Ids of messages already handled, by "senderDeviceId/clientMessageId", so that a row the server
 * delivers again (a lost acknowledgement, or a replay) is dropped instead of shown twice
 * (SPEC INBOX-5), and kept only as long as replay protection needs them (SPEC SEEN-1).
 *
 * The ratchet itself refuses a Normal message it has read. What only this table stops is a
 * PreKey message sent again after its session was dropped: without a one-time prekey it would set
 * up a second session and show the message twice. It can do so only while the signed prekey it
 * names exists: at most SIGNED_PREKEY_ROTATION_MS + PREKEY_GRACE_MS after the message came, so
 * ids are kept that long. The table is also bounded in count; past it the oldest go first.
 * @module
 */
import { PREKEY_GRACE_MS, SIGNED_PREKEY_ROTATION_MS } from '@pairwise/protocol/limits';
import { StoreTable, type ClientStore } from './client-store.js';

/** How long a handled message's id is kept. */
export const SEEN_TTL_MS = SIGNED_PREKEY_ROTATION_MS + PREKEY_GRACE_MS;
/** Most ids kept; about 5 MB in IndexedDB. */
export const MAX_SEEN_IDS = 50_000;

/** The seen-ids table of one device. */
export class SeenIds {
  constructor(private readonly store: ClientStore) {}

  async has(key: string): Promise<boolean> {
    return (await this.store.get<number>(StoreTable.Seen, key)) !== undefined;
  }

  async add(key: string, at: number): Promise<void> {
    await this.store.put(StoreTable.Seen, key, at);
  }

  /** Forgets ids older than SEEN_TTL_MS, and the oldest beyond MAX_SEEN_IDS; returns how many. */
  async prune(now: number): Promise<number> {
    const entries = await this.store.list<unknown>(StoreTable.Seen);
    // A value that is not a time cannot be judged: it goes too.
    const dated = entries.map(([key, at]) => [key, typeof at === 'number' ? at : 0] as const).sort((a, b) => b[1] - a[1]);
    const doomed = dated.filter(([, at], i) => i >= MAX_SEEN_IDS || at < now - SEEN_TTL_MS);
    for (const [key] of doomed) await this.store.delete(StoreTable.Seen, key);
    return doomed.length;
  }
}
