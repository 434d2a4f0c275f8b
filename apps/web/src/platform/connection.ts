/**
 * Where this page's server is: the origin the page came from, and its WebSocket at /ws. Link codes
 * and device signatures are bound to that origin, so a copy of the app on another site cannot use them.
 * @module
 */
import type { ClientStore } from '@pairwise/client/client-store';
import type { ConnectOptions } from '@pairwise/client/pairwise-client';
import { browserSocket } from './browser-socket.js';

/** Connection options for this page's server, keeping state in `store`. */
export function connectOptions(store: ClientStore): ConnectOptions {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return { origin: location.origin, url: `${scheme}//${location.host}/ws`, socketFactory: browserSocket, store };
}
