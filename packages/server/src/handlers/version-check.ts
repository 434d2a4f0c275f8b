import { ProtocolError } from '@pairwise/protocol/errors';
import type { Config } from '../config.js';

/**
 * Refuses clients older than the server accepts (SPEC VERSION-1): the minimum is the configured
 * one (MIN_PROTOCOL_VERSION, SPEC VERSION-2), never below the built-in minimum.
 */
export function requireSupportedVersion(protocolVersion: number, config: Pick<Config, 'minProtocolVersion'>): void {
  if (protocolVersion < config.minProtocolVersion) {
    throw new ProtocolError('UPDATE_REQUIRED', `this server needs protocol ${config.minProtocolVersion} or later`);
  }
}
