/**
 * The app lock at work in a companion's screens (SPEC LOCK-*): whether it is locked, the chats the
 * unlocked screens show, the idle timer, "Lock now" across tabs, and message notifications.
 *
 * Locking stops the chats and drops them: the ChatStore forgets every message it held, and the
 * screens are replaced by the lock screen, so neither the page nor its memory holds anything of
 * the chats. Unlocking makes a fresh ChatStore, which reads the history again with the key the
 * passcode just unwrapped.
 * @module
 */
import { StoreTable } from '@pairwise/client/client-store';
import type { HistoryLockStore } from '@pairwise/client/history-lock';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ChatStore } from '../chats/chat-store.js';
import { notifyIncomingMessages } from '../platform/notifications.js';
import type { Session } from '../session.js';
import { watchIdle, type IdleWatch } from './idle-timer.js';

/** Where "Show notifications" is kept (the store's meta table, beside the app's other settings). */
const NOTIFICATIONS_KEY = 'app/notifications';
/** Tabs of this browser tell each other "lock now" and "the lock settings changed". */
const CHANNEL_NAME = 'pairwise-app-lock';

/** What the companion's screens need of the app lock. */
export interface AppLock {
  /** The lock store; null where the lock is not offered (a temporary session). */
  readonly store: HistoryLockStore | null;
  readonly locked: boolean;
  /** The session as the unlocked screens see it: its chats are made afresh at every unlock. */
  readonly session: Session;
  /** Locks this tab now, and the browser's other tabs. */
  lockNow(): void;
  /** After turning the lock on or off or changing it: the other tabs reopen to see it. */
  settingsChanged(): void;
  readonly notificationsEnabled: boolean;
  setNotificationsEnabled(enabled: boolean): Promise<void>;
}

/** The app lock of `session`'s companion. */
export function useAppLock(session: Session): AppLock {
  const store = session.lock;
  const [, setVersion] = useState(0);
  const chats = useRef<ChatStore | null>(store?.locked ? null : session.chats);
  const channel = useRef<BroadcastChannel | null>(null);
  const [notificationsEnabled, setNotifications] = useState(false);
  const notificationsOn = useRef(false);
  notificationsOn.current = notificationsEnabled;
  const idle = useRef<IdleWatch | null>(null);

  // Follow the lock: drop the chats when it locks, read them afresh when it unlocks.
  useEffect(() => {
    if (store === null) return;
    const sync = () => {
      if (store.locked && chats.current !== null) {
        chats.current.stop();
        session.chats.stop();
        chats.current = null;
      } else if (!store.locked && chats.current === null) {
        const fresh = new ChatStore(session.client, session.store);
        chats.current = fresh;
        // Rendered again once loaded: the screens may subscribe to it only after it has finished.
        fresh.start().then(
          () => setVersion((version) => version + 1),
          () => {
            // The store was wiped under it (logged out): the app is leaving this screen anyway.
          },
        );
      }
      setVersion((version) => version + 1);
    };
    sync();
    const stopListening = store.onChange(sync);
    return () => {
      stopListening();
      chats.current?.stop();
    };
  }, [store, session]);

  const locked = store?.locked ?? false;
  const lockAfterMinutes = store?.lockAfterMinutes ?? null;

  // Lock after the chosen minutes without activity.
  useEffect(() => {
    if (store === null || locked || lockAfterMinutes === null) return;
    const watch = watchIdle(lockAfterMinutes * 60_000, () => store.lock());
    idle.current = watch;
    return () => {
      idle.current = null;
      watch();
    };
  }, [store, locked, lockAfterMinutes]);

  // Other tabs: "lock now" locks here too; changed settings reopen this tab with them.
  useEffect(() => {
    if (store === null || !('BroadcastChannel' in globalThis)) return;
    const opened = new BroadcastChannel(CHANNEL_NAME);
    channel.current = opened;
    opened.onmessage = (event: MessageEvent) => {
      if (event.data === 'lock' && store.enabled && !store.locked) store.lock();
      else if (event.data === 'settings') location.reload();
    };
    return () => {
      channel.current = null;
      opened.close();
    };
  }, [store]);

  // Notifications: off until the person turns them on; only "New message" while locked.
  useEffect(() => {
    if (store === null) return;
    let current = true;
    session.store
      .get<boolean>(StoreTable.Meta, NOTIFICATIONS_KEY)
      .then((value) => current && setNotifications(value === true))
      .catch(() => {});
    const stop = notifyIncomingMessages(session.client, {
      enabled: () => notificationsOn.current,
      // A hidden page's idle timer may run late: past "Lock after", lock now rather than show the text.
      locked: () => {
        idle.current?.checkNow();
        return store.locked;
      },
    });
    return () => {
      current = false;
      stop();
    };
  }, [store, session]);

  const current = chats.current;
  const unlockedSession = useMemo(() => (current === null || current === session.chats ? session : { ...session, chats: current }), [session, current]);

  return {
    store,
    locked,
    session: unlockedSession,
    lockNow() {
      if (store === null || !store.enabled) return;
      store.lock();
      channel.current?.postMessage('lock');
    },
    settingsChanged() {
      channel.current?.postMessage('settings');
    },
    notificationsEnabled,
    async setNotificationsEnabled(enabled: boolean) {
      await session.store.put(StoreTable.Meta, NOTIFICATIONS_KEY, enabled);
      setNotifications(enabled);
    },
  };
}
