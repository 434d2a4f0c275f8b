import { describe, expect, it } from 'vitest';
import { StoreTable } from './client-store.js';
import { MemoryStore } from './memory-store.js';
import { MAX_SEEN_IDS, SEEN_TTL_MS, SeenIds } from './seen-ids.js';

const NOW = 1_790_000_000_000;

describe('[SEEN-1] seen ids are kept as long as replay protection needs them, and bounded', () => {
  it('forgets ids of messages that started no session after the signed-prekey life plus its grace, keeps the rest', async () => {
    const store = new MemoryStore();
    const seen = new SeenIds(store);
    await seen.add('device/old', NOW - SEEN_TTL_MS - 1);
    await seen.add('device/edge', NOW - SEEN_TTL_MS);
    await seen.add('device/new', NOW - 1000);
    await store.put(StoreTable.Seen, 'device/legacy', true);
    expect(await seen.prune(NOW)).toBe(2);
    expect(await seen.has('device/old')).toBe(false);
    expect(await seen.has('device/legacy')).toBe(false);
    expect(await seen.has('device/edge')).toBe(true);
    expect(await seen.has('device/new')).toBe(true);
    // 37 days: a PreKey message can be replayed only while the signed prekey it names exists.
    expect(SEEN_TTL_MS).toBe(37 * 24 * 60 * 60 * 1000);
  });

  it(`keeps at most ${MAX_SEEN_IDS}, the newest`, async () => {
    const store = new MemoryStore();
    const seen = new SeenIds(store);
    for (let i = 0; i < MAX_SEEN_IDS + 3; i++) await store.put(StoreTable.Seen, `d/${String(i).padStart(6, '0')}`, NOW - i);
    expect(await seen.prune(NOW)).toBe(3);
    expect((await store.list(StoreTable.Seen)).length).toBe(MAX_SEEN_IDS);
    expect(await seen.has(`d/${String(MAX_SEEN_IDS + 2).padStart(6, '0')}`)).toBe(false);
    expect(await seen.has('d/000000')).toBe(true);
  });

  it('keeps the id of a message that started a session as long as its signed prekey exists, whatever its age or the count of others', async () => {
    const store = new MemoryStore();
    const seen = new SeenIds(store);
    await store.put(StoreTable.PreKeys, 'signed:7', { id: 7 });
    await seen.add('device/first-under-7', NOW - 2 * SEEN_TTL_MS, 7);
    await seen.add('device/first-under-6', NOW - 1000, 6);
    await store.put(StoreTable.Seen, 'device/odd', { at: 'yesterday' });
    // More ordinary ids than the bound, all newer: they do not push the session start out.
    for (let i = 0; i < MAX_SEEN_IDS + 1; i++) await store.put(StoreTable.Seen, `d/${String(i).padStart(6, '0')}`, NOW - i);
    expect(await seen.prune(NOW)).toBe(3);
    expect(await seen.has('device/first-under-7')).toBe(true);
    // Its prekey is gone: such a message can no longer start a session, so its id may go.
    expect(await seen.has('device/first-under-6')).toBe(false);
    expect(await seen.has('device/odd')).toBe(false);
    expect(await seen.has(`d/${String(MAX_SEEN_IDS).padStart(6, '0')}`)).toBe(false);
    await store.delete(StoreTable.PreKeys, 'signed:7');
    expect(await seen.prune(NOW)).toBe(1);
    expect(await seen.has('device/first-under-7')).toBe(false);
  });
});
