/**
 * Log out leaves nothing behind: every IndexedDB database of this origin, Cache Storage, service
 * worker registrations and web storage. The SDK has already wiped its own store by then; this
 * catches anything else the origin kept (SPEC REVOKE-3). The server's Clear-Site-Data header does
 * the same where the browser honours it, but Chromium cannot clear running pages, so the page
 * does it itself.
 * @module
 */

/** How long to wait for a deletion another tab is blocking before moving on. */
const BLOCKED_WAIT_MS = 3000;

/** Deletes everything this origin stored in the browser. Never throws: it does what it can. */
export async function wipeBrowserData(): Promise<void> {
  await Promise.allSettled([deleteDatabases(), deleteCaches(), unregisterServiceWorkers()]);
  try {
    localStorage.clear();
    sessionStorage.clear();
  } catch {
    // Storage disabled by the browser: nothing was kept there either.
  }
}

async function deleteDatabases(): Promise<void> {
  const databases = await indexedDB.databases();
  await Promise.all(
    databases.map(
      ({ name }) =>
        new Promise<void>((resolve) => {
          if (name === undefined) return resolve();
          const request = indexedDB.deleteDatabase(name);
          request.onsuccess = () => resolve();
          request.onerror = () => resolve();
          // Blocked by a connection in another tab: the deletion still happens once that tab
          // closes it (stores close themselves on versionchange); the page need not wait.
          request.onblocked = () => setTimeout(resolve, BLOCKED_WAIT_MS);
        }),
    ),
  );
}

async function deleteCaches(): Promise<void> {
  if (!('caches' in globalThis)) return;
  const keys = await caches.keys();
  await Promise.all(keys.map((key) => caches.delete(key)));
}

async function unregisterServiceWorkers(): Promise<void> {
  if (!('serviceWorker' in navigator)) return;
  const registrations = await navigator.serviceWorker.getRegistrations();
  await Promise.all(registrations.map((registration) => registration.unregister()));
}
