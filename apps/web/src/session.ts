/**
 * This browser as a device: resumed from IndexedDB at start, made by creating an account (the
 * phone) or by linking (a companion), and ended by log out with everything wiped.
 * @module
 */
import { DeviceInUseError } from '@pairwise/client/device-lock';
import type { IndexedDbStore } from '@pairwise/client/dom/indexeddb-store';
import { HistoryLockStore } from '@pairwise/client/history-lock';
import { loadIdentity } from '@pairwise/client/identity';
import type { MemoryStore } from '@pairwise/client/memory-store';
import { PairwiseClient } from '@pairwise/client/pairwise-client';
import { AlertFeed } from './alerts/alert-feed.js';
import { ChatStore } from './chats/chat-store.js';
import { connectOptions } from './platform/connection.js';
import { copyStore, hasDeviceStore, openDeviceStore } from './platform/device-store.js';
import { thisBrowserName } from './platform/user-agent.js';
import { wipeBrowserData } from './platform/wipe.js';

/** A device at work: its client, its store and its chats. */
export interface Session {
  readonly client: PairwiseClient;
  /**
   * IndexedDB, behind the app lock's store (which seals the history once a passcode is set); a
   * memory store for a temporary session, which writes nothing to disk (SPEC TEMP-2).
   */
  readonly store: IndexedDbStore | MemoryStore | HistoryLockStore;
  /** A companion's app lock (SPEC LOCK-*); null on the phone and in a temporary session. */
  readonly lock: HistoryLockStore | null;
  /** "Keep me signed in" was unticked: nothing of this device may reach the disk, and it ends with the tab. */
  readonly temporary: boolean;
  readonly chats: ChatStore;
  /** "New device linked" and "Linking locked", heard from the moment the client exists. */
  readonly alerts: AlertFeed;
  /**
   * Settles when the device is logged out (the SDK has wiped its store by then). Listened to from
   * the moment the client exists: a device removed while the browser was closed hears it on its
   * first connection, possibly before any screen is up.
   */
  readonly loggedOut: Promise<{ readonly reason: string }>;
  /**
   * Settles when another tab took the device over ("Use here", SPEC DEVICE-1): the client has
   * stopped and let the device go. Listened to from the moment the client exists, as the request
   * may come while this tab is still opening.
   */
  readonly takenOver: Promise<void>;
}

/** How to open the device. */
export interface OpenOptions {
  /**
   * "Use here": another tab holds the device; ask it to let go and wait until it has (SPEC
   * DEVICE-1). Without it, opening fails with `DeviceInUseError` while another tab holds it.
   */
  readonly takeOver?: boolean;
}

/**
 * Opens the device this browser already is, or null when it is none yet. Rejects with
 * `DeviceInUseError` while another tab of this browser has it open (unless `takeOver`).
 */
export async function resumeSession(options: OpenOptions = {}): Promise<Session | null> {
  // Checked without opening: opening would create an empty database on a first visit.
  if (!(await hasDeviceStore())) return null;
  // A companion with a passcode set starts locked: its history stays sealed until the passcode,
  // in a tab that took the device over as at any start.
  const store = await HistoryLockStore.open(await openDeviceStore());
  let client: PairwiseClient | null;
  try {
    client = await openClient(store, options.takeOver === true);
  } catch (error) {
    // Another tab has the device: this one keeps no connection to its data while it waits.
    await store.close();
    throw error;
  }
  if (client === null) {
    // A database without an identity: an account creation or a link cut short. Start clean.
    await store.wipe();
    await wipeBrowserData();
    return null;
  }
  return withChats(client, store);
}

/** Creates an account with this browser as its phone. */
export async function createAccountSession(username: string): Promise<Session> {
  const store = await openDeviceStore();
  try {
    const client = await PairwiseClient.createAccount({ ...connectOptions(store), username, deviceName: thisBrowserName() });
    return await withChats(client, store);
  } catch (error) {
    if (error instanceof DeviceInUseError) {
      // Another tab became this browser's device meanwhile: its data is not ours to wipe.
      await store.close();
    } else {
      // The server refused (the name is taken, say): drop the keys made for the attempt.
      await store.wipe().catch(() => {});
    }
    throw error;
  }
}

/**
 * Keeps the device a link request made in memory, and opens it. A temporary session stays in that
 * memory store: no database is created, so closing the tab leaves nothing behind (SPEC TEMP-2).
 */
export async function linkedSession(linked: MemoryStore, options: { readonly temporary: boolean }): Promise<Session> {
  if (options.temporary) {
    const client = await PairwiseClient.open(connectOptions(linked));
    if (client === null) throw new Error('the linked device was not kept');
    return withChats(client, linked, true);
  }
  const store = await HistoryLockStore.open(await openDeviceStore());
  try {
    // Held while copying: another tab may have become this browser's device since this one
    // showed its code, and must neither be copied over nor start on a half-copied store.
    const lock = await store.acquireDeviceLock();
    try {
      if ((await loadIdentity(store)) !== null) throw new DeviceInUseError('another tab of this browser became a Pairwise device meanwhile');
      await copyStore(linked, store);
    } finally {
      await lock.release();
    }
  } catch (error) {
    await store.close();
    throw error;
  }
  await linked.close();
  const client = await PairwiseClient.open(connectOptions(store));
  if (client === null) throw new Error('the linked device was not kept');
  return withChats(client, store);
}

/**
 * How long a start waits for the device before saying another tab has it: a reloaded page may
 * ask before the browser has freed the lock of the page it replaces.
 */
const RELOAD_GRACE_MS = 500;

async function openClient(store: HistoryLockStore, takeOver: boolean): Promise<PairwiseClient | null> {
  try {
    return await PairwiseClient.open({ ...connectOptions(store), takeOver });
  } catch (error) {
    if (!(error instanceof DeviceInUseError) || takeOver) throw error;
    await delay(RELOAD_GRACE_MS);
    return PairwiseClient.open(connectOptions(store));
  }
}

async function withChats(client: PairwiseClient, store: Session['store'], temporary = false): Promise<Session> {
  // Subscribed before anything is awaited, so that the event cannot be missed.
  const loggedOut = loggedOutWithCause(client);
  const takenOver = client.once('taken-over').then(() => {});
  const alerts = new AlertFeed(client);
  const chats = new ChatStore(client, store);
  const lock = store instanceof HistoryLockStore && !client.isPrimary ? store : null;
  try {
    // Locked, the history cannot be read: the chats are read at unlock (lock/use-app-lock.ts).
    if (!lock?.locked) await chats.start();
  } catch (error) {
    // The store was wiped under us (logged out at start): the caller still gets the session, and
    // its loggedOut settles; anything else is a real failure.
    if (!(await Promise.race([loggedOut.then(() => true), delay(1000).then(() => false)]))) throw error;
  }
  return { client, store, lock, temporary, chats, alerts, loggedOut, takenOver };
}

/**
 * The 'logged-out' event, telling apart a device removed while this browser was away: the server
 * then refuses it as it connects (LOGGED_OUT) and no longer knows why, so the SDK's 'removed'
 * may as well mean an automatic log out (inactivity, the phone unused) as one from the phone.
 */
function loggedOutWithCause(client: PairwiseClient): Promise<{ readonly reason: string }> {
  let refusedAtConnect = false;
  const off = client.on('auth-error', ({ code }) => {
    if (code === 'LOGGED_OUT') refusedAtConnect = true;
  });
  return client.once('logged-out').then(({ reason }) => {
    off();
    return { reason: reason === 'removed' && refusedAtConnect ? 'removed-while-away' : reason };
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
