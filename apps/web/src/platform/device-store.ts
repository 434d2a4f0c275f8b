/**
 * This browser's device state: one IndexedDB database, created only once the browser is a device
 * (an account's phone, or a linked companion). Until then nothing is written to disk: a link
 * request keeps its keys in memory, so an abandoned link screen leaves nothing behind.
 * @module
 */
import { STORE_TABLES, StoreTable, type ClientStore } from '@pairwise/client/client-store';
import { IndexedDbStore } from '@pairwise/client/dom/indexeddb-store';

/** The store's name; IndexedDbStore calls the database `pairwise-device`. */
const STORE_NAME = 'device';
const DATABASE_NAME = `pairwise-${STORE_NAME}`;

/** Whether this browser already holds a device's database (without creating one). */
export async function hasDeviceStore(): Promise<boolean> {
  const databases = await indexedDB.databases();
  return databases.some((database) => database.name === DATABASE_NAME);
}

/** Opens (creating if needed) this browser's device store. */
export function openDeviceStore(): Promise<IndexedDbStore> {
  return IndexedDbStore.open(STORE_NAME);
}

/**
 * Copies everything `from` holds into `to`. The identity goes last: a copy cut short (the tab
 * closed) leaves a store without an identity, which the app treats as empty and wipes.
 */
export async function copyStore(from: ClientStore, to: ClientStore): Promise<void> {
  const tables = [...STORE_TABLES.filter((table) => table !== StoreTable.Identity), StoreTable.Identity];
  for (const table of tables) {
    const rows = await from.list<unknown>(table);
    await Promise.all(rows.map(([key, value]) => to.put(table, key, value)));
  }
}
