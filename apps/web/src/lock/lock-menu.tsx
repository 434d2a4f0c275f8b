/**
 * The app lock's controls in a companion's header: a "Lock now" button once a passcode is set (a
 * button, not hidden in the Menu, so that locking before walking away is one click and screen
 * readers find it by that name), and "App lock…" in the Menu.
 * @module
 */
import type { MenuItem } from '../shell/menu.js';
import type { AppLock } from './use-app-lock.js';

/** The "Lock now" button; nothing where the lock is not offered or no passcode is set. */
export function LockNowButton({ appLock }: { readonly appLock: AppLock }) {
  if (appLock.store === null || !appLock.store.enabled) return null;
  return (
    <button type="button" class="button" onClick={() => appLock.lockNow()}>
      Lock now
    </button>
  );
}

/** The Menu items for `appLock`; none where the lock is not offered. */
export function lockMenuItems(appLock: AppLock, openSettings: () => void): MenuItem[] {
  if (appLock.store === null) return [];
  return [{ label: 'App lock…', onSelect: openSettings }];
}
