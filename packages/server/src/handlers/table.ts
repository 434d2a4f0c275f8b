/**
 * Which handler serves each kind of request, and who may send it. Adding a request to the
 * schema without a row here does not compile.
 * @module
 */
import type { ClientFrame } from '@pairwise/protocol/wire';
import type { Connection, ResponseResult } from '../ws/connection.js';
import { register } from './accounts.js';
import { authenticate, requestChallenge } from './auth.js';
import { listDevices, logOut, removeDevice, updateDeviceList } from './devices.js';
import { approveLink, createLinkToken, getLinkRequest } from './linking.js';
import { ackInbox, sendMessage } from './messaging.js';
import { fetchBundles, getAccountDevices, uploadPreKeys } from './prekeys.js';

type BodyCase = NonNullable<ClientFrame['body']['case']>;
type BodyOf<C extends BodyCase> = Extract<ClientFrame['body'], { case: C }>['value'];

/** Who may send a request: anyone (before authentication), any device, or only the primary. */
export type Access = 'anyone' | 'device' | 'primary';

interface HandlerEntry<C extends BodyCase> {
  readonly access: Access;
  readonly handle: (connection: Connection, body: BodyOf<C>) => Promise<ResponseResult>;
}

export const HANDLERS: { readonly [C in BodyCase]: HandlerEntry<C> } = {
  requestChallenge: { access: 'anyone', handle: requestChallenge },
  authenticate: { access: 'anyone', handle: authenticate },
  register: { access: 'anyone', handle: register },
  createLinkToken: { access: 'anyone', handle: createLinkToken },
  getLinkRequest: { access: 'primary', handle: getLinkRequest },
  approveLink: { access: 'primary', handle: approveLink },
  uploadPreKeys: { access: 'device', handle: uploadPreKeys },
  fetchBundles: { access: 'device', handle: fetchBundles },
  getAccountDevices: { access: 'device', handle: getAccountDevices },
  sendMessage: { access: 'device', handle: sendMessage },
  ackInbox: { access: 'device', handle: ackInbox },
  listDevices: { access: 'device', handle: listDevices },
  removeDevice: { access: 'primary', handle: removeDevice },
  logOut: { access: 'device', handle: logOut },
  updateDeviceList: { access: 'primary', handle: updateDeviceList },
  ping: { access: 'anyone', handle: () => Promise.resolve({ case: 'ok', value: {} }) },
};
