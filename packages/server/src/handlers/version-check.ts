import { ProtocolError } from '@pairwise/protocol/errors';
import { MIN_PROTOCOL_VERSION } from '@pairwise/protocol/version';

/** Refuses clients older than the server accepts (SPEC VERSION-1). */
export function requireSupportedVersion(protocolVersion: number): void {
  if (protocolVersion < MIN_PROTOCOL_VERSION) {
    throw new ProtocolError('UPDATE_REQUIRED', `this server needs protocol ${MIN_PROTOCOL_VERSION} or later`);
  }
}
