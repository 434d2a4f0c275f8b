/**
 * The app lock's entries in a companion's Menu: "App lock…" always, "Lock now" once a passcode is set.
 * @module
 */
import type { MenuItem } from '../shell/menu.js';
import type { AppLock } from './use-app-lock.js';

/** The Menu items for `appLock`; none where the lock is not offered. */
export function lockMenuItems(appLock: AppLock, openSettings: () => void): MenuItem[] {
  if (appLock.store === null) return [];
  return [
    ...(appLock.store.enabled ? [{ label: 'Lock now', onSelect: () => appLock.lockNow() }] : []),
    { label: 'App lock…', onSelect: openSettings },
  ];
}
