import { describe, expect, it } from 'vitest';
import { StoreTable } from './client-store.js';
import { DeviceInUseError, fenced, InProcessLocks } from './device-lock.js';
import { MemoryStore } from './memory-store.js';
import { StoreClosedError } from './store-errors.js';

describe('[DEVICE-1] device locks', () => {
  it('one holder per key; a take-over asks the holder and waits for it to let go', async () => {
    const locks = new InProcessLocks<string>();
    const first = await locks.acquire('device');
    await expect(locks.acquire('device')).rejects.toBeInstanceOf(DeviceInUseError);
    const other = await locks.acquire('another device');
    let granted = false;
    const second = locks.acquire('device', { takeOver: true }).then((lock) => {
      granted = true;
      return lock;
    });
    await first.takeOverRequested;
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(granted).toBe(false);
    await first.release();
    const held = await second;
    expect(granted).toBe(true);
    // Releasing twice, or an old lock, frees nothing of the new holder's.
    await first.release();
    await expect(locks.acquire('device')).rejects.toBeInstanceOf(DeviceInUseError);
    await held.release();
    await other.release();
    await (await locks.acquire('device')).release();
  });

  it('a memory store is one client at a time', async () => {
    const store = new MemoryStore();
    const lock = await store.acquireDeviceLock();
    await expect(store.acquireDeviceLock()).rejects.toBeInstanceOf(DeviceInUseError);
    await expect(new MemoryStore().acquireDeviceLock()).resolves.toBeDefined();
    await lock.release();
    await (await store.acquireDeviceLock()).release();
  });

  it('a fenced store refuses every call once its client let the device go', async () => {
    const store = new MemoryStore();
    let held = true;
    const view = fenced(store, () => held);
    await view.put(StoreTable.Meta, 'k', 1);
    expect(await view.get(StoreTable.Meta, 'k')).toBe(1);
    held = false;
    await expect(view.put(StoreTable.Meta, 'k', 2)).rejects.toBeInstanceOf(StoreClosedError);
    await expect(view.get(StoreTable.Meta, 'k')).rejects.toBeInstanceOf(StoreClosedError);
    await expect(view.list(StoreTable.Meta)).rejects.toBeInstanceOf(StoreClosedError);
    await expect(view.delete(StoreTable.Meta, 'k')).rejects.toBeInstanceOf(StoreClosedError);
    await expect(view.wipe()).rejects.toBeInstanceOf(StoreClosedError);
    expect(await store.get(StoreTable.Meta, 'k')).toBe(1);
  });
});
