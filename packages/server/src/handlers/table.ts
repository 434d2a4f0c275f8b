/**
 * Which handler serves each kind of request, and who may send it. Adding a request to the
 * schema without a row here does not compile.
 * @module
 */
import type { ClientFrame } from '@pairwise/protocol/wire';
import type { Connection, RequestScope, ResponseResult } from '../ws/connection.js';
import { register } from './accounts.js';
import { attestDevice } from './attestation.js';
import { authenticate, requestChallenge } from './auth.js';
import { listDevices, logOut, removeDevice, updateDeviceList } from './devices.js';
import { approveLink, createLinkToken, getLinkRequest } from './linking.js';
import { ackInbox, sendMessage } from './messaging.js';
import { fetchBundles, getAccountDevices, uploadPreKeys } from './prekeys.js';
import { getSecurity, getSecurityLog, setPin, setPolicies, verifyPin } from './security.js';

type BodyCase = NonNullable<ClientFrame['body']['case']>;
type BodyOf<C extends BodyCase> = Extract<ClientFrame['body'], { case: C }>['value'];

/**
 * Who may send a request: anyone (before authentication), any device, or only the primary
 * (SPEC ROLES-1, ROLES-2): only the phone links, removes other devices, sets the PIN or the
 * policies and reads the security log; a companion can only log itself out.
 */
export type Access = 'anyone' | 'device' | 'primary';

interface HandlerEntry<C extends BodyCase> {
  readonly access: Access;
  readonly handle: (connection: Connection, body: BodyOf<C>, request: RequestScope) => Promise<ResponseResult>;
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
  setPin: { access: 'primary', handle: setPin },
  verifyPin: { access: 'primary', handle: verifyPin },
  getSecurity: { access: 'device', handle: getSecurity },
  setPolicies: { access: 'primary', handle: setPolicies },
  getSecurityLog: { access: 'primary', handle: getSecurityLog },
  attestDevice: { access: 'device', handle: attestDevice },
  ping: { access: 'anyone', handle: () => Promise.resolve({ case: 'ok', value: {} }) },
};
