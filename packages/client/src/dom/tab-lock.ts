/**
 * The device lock among the browser's tabs (SPEC DEVICE-1): a Web Lock, held for the client's
 * life, plus a BroadcastChannel on which a tab that wants the device ("Use here") asks the holder
 * to let go.
 *
 * Web Locks give exactly one holder across every tab and worker of the origin, and the browser
 * releases a lock when its tab closes or crashes, so a dead tab never keeps the device. A tab
 * taking over does not steal the lock (that would let the old holder keep writing for a moment
 * while the new one reads): it queues for it and asks, and the holder releases only after its
 * client has stopped. It asks again every second while it waits, so that a take-over that
 * reached a tab before that tab held the lock is not lost.
 * @module
 */
import { DeviceInUseError, type DeviceLock, type DeviceLockOptions } from '../device-lock.js';

/** The message a tab that wants the device sends. */
const TAKE_OVER = 'take-over';
/** While waiting, the take-over is asked again this often. */
const ASK_AGAIN_MS = 1000;

/** Takes the lock named `name`, or asks its holder for it (`takeOver`). */
export function acquireTabLock(name: string, options: DeviceLockOptions = {}): Promise<DeviceLock> {
  const channel = new BroadcastChannel(name);
  let askAgain: ReturnType<typeof setInterval> | null = null;
  return new Promise<DeviceLock>((resolve, reject) => {
    let release!: () => void;
    const held = new Promise<void>((done) => (release = done));
    navigator.locks
      .request(name, { mode: 'exclusive', ifAvailable: options.takeOver !== true }, (lock) => {
        if (askAgain !== null) clearInterval(askAgain);
        if (lock === null) {
          channel.close();
          reject(new DeviceInUseError('Pairwise is open in another tab'));
          return undefined;
        }
        let requestTakeOver!: () => void;
        const takeOverRequested = new Promise<void>((done) => (requestTakeOver = done));
        channel.onmessage = (event: MessageEvent) => {
          if (event.data === TAKE_OVER) requestTakeOver();
        };
        const releaseOnce = () => {
          channel.close();
          release();
          return Promise.resolve();
        };
        resolve({ takeOverRequested, release: releaseOnce });
        // The lock is held until this promise settles: until release().
        return held;
      })
      .catch((error: unknown) => {
        channel.close();
        reject(error instanceof Error ? error : new Error(String(error)));
      });
    if (options.takeOver === true) {
      channel.postMessage(TAKE_OVER);
      askAgain = setInterval(() => channel.postMessage(TAKE_OVER), ASK_AGAIN_MS);
    }
  });
}
