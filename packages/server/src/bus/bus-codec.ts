/**
 * Bus events on the wire between nodes: JSON, bytes as base64. Every message read from the
 * broker is checked against the shape of its event before a handler sees it, like any other
 * input from outside the process: a malformed or foreign message is dropped, never acted on.
 * @module
 */
import { isDeviceId, isUsername } from '@pairwise/protocol/ids';
import type { BusEvent } from './bus.js';

/** Why a message from the broker was not an event. */
export class BusDecodeError extends Error {
  override readonly name = 'BusDecodeError';
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The event as bytes for the broker. */
export function encodeBusEvent(event: BusEvent): Uint8Array {
  const wire = event.type === 'link-approved' ? { ...event, sealedBundle: Buffer.from(event.sealedBundle).toString('base64') } : event;
  return encoder.encode(JSON.stringify(wire));
}

/** The event in `bytes`; throws `BusDecodeError` naming what was wrong. */
export function decodeBusEvent(bytes: Uint8Array): BusEvent {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    throw new BusDecodeError('not JSON');
  }
  if (typeof value !== 'object' || value === null) throw new BusDecodeError('not an object');
  const event = value as Record<string, unknown>;
  switch (event.type) {
    case 'inbox':
      if (!Array.isArray(event.deviceIds) || event.deviceIds.length === 0 || !event.deviceIds.every(isDeviceIdValue)) fail('inbox', 'deviceIds');
      if (event.seqs === undefined) return { type: 'inbox', deviceIds: event.deviceIds };
      if (!Array.isArray(event.seqs) || event.seqs.length !== event.deviceIds.length || !event.seqs.every(isSeq)) fail('inbox', 'seqs');
      return { type: 'inbox', deviceIds: event.deviceIds, seqs: event.seqs };
    case 'revoke':
      if (!isDeviceIdValue(event.deviceId)) fail('revoke', 'deviceId');
      if (event.reason !== 'removed' && event.reason !== 'logged-out' && event.reason !== 'expired') fail('revoke', 'reason');
      return { type: 'revoke', deviceId: event.deviceId, reason: event.reason };
    case 'device-list':
      return { type: 'device-list', accountId: accountId('device-list', event.accountId) };
    case 'link-approved': {
      if (typeof event.tokenHash !== 'string' || !/^[0-9a-f]{64}$/.test(event.tokenHash)) fail('link-approved', 'tokenHash');
      if (typeof event.sealedBundle !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(event.sealedBundle)) fail('link-approved', 'sealedBundle');
      return {
        type: 'link-approved',
        tokenHash: event.tokenHash,
        accountId: accountId('link-approved', event.accountId),
        sealedBundle: new Uint8Array(Buffer.from(event.sealedBundle, 'base64')),
      };
    }
    case 'device-removed':
      if (!isDeviceIdValue(event.deviceId)) fail('device-removed', 'deviceId');
      if (typeof event.reason !== 'string' || event.reason.length > 64) fail('device-removed', 'reason');
      return { type: 'device-removed', accountId: accountId('device-removed', event.accountId), deviceId: event.deviceId, reason: event.reason };
    case 'prekeys-low':
      if (!isDeviceIdValue(event.deviceId)) fail('prekeys-low', 'deviceId');
      if (!isCount(event.remaining) || !isCount(event.pqRemaining)) fail('prekeys-low', 'remaining');
      return { type: 'prekeys-low', deviceId: event.deviceId, remaining: event.remaining, pqRemaining: event.pqRemaining };
    case 'security':
      if (event.alert !== '' && event.alert !== 'pin-locked') fail('security', 'alert');
      return { type: 'security', accountId: accountId('security', event.accountId), alert: event.alert };
    default:
      throw new BusDecodeError('unknown event type');
  }
}

function fail(type: string, field: string): never {
  throw new BusDecodeError(`${type}: ${field} is missing or invalid`);
}

function isDeviceIdValue(value: unknown): value is string {
  return typeof value === 'string' && isDeviceId(value);
}

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Account ids are usernames. */
function accountId(type: string, value: unknown): string {
  if (typeof value !== 'string' || !isUsername(value)) fail(type, 'accountId');
  return value;
}
