/**
 * Field checks for requests, applied at the edge right after a frame is parsed. Each throws a
 * `ProtocolError` (BAD_REQUEST) that names the field, so a client learns what was wrong and the
 * handlers behind this line can trust their input.
 * @module
 */
import { isDeviceId } from '@pairwise/protocol/ids';
import { ProtocolError } from '@pairwise/protocol/errors';
import { MAX_ONE_TIME_PREKEYS, MAX_PQ_ONE_TIME_PREKEYS } from '@pairwise/protocol/limits';
import type { DeviceIdentityKeys, PreKeyUpload, SignedBody, SignedPreKey } from '@pairwise/protocol/wire';
import type { PreKeyUploadRow, SignedBodyRow, SignedPreKeyRow } from './store/store.js';

/** Throws BAD_REQUEST naming `field` unless `value` holds. */
export function check(condition: boolean, field: string, why = 'is missing or invalid'): asserts condition {
  if (!condition) throw new ProtocolError('BAD_REQUEST', `${field} ${why}`);
}

/** Exactly `length` bytes. */
export function bytesOf(value: Uint8Array | undefined, length: number, field: string): Uint8Array {
  check(value instanceof Uint8Array && value.length === length, field, `must be ${length} bytes`);
  return value;
}

/** A device id as the protocol defines it. */
export function deviceId(value: string, field = 'device_id'): string {
  check(isDeviceId(value), field, 'must be 32 lower-case hex digits');
  return value;
}

/** A short human-readable label such as a device name, trimmed to `max` characters. */
export function label(value: string, max = 64): string {
  // Control characters would let a device name forge lines in the phone's device list.
  return [...value.replace(/\p{Cc}/gu, ' ').trim()].slice(0, max).join('');
}

/** Both identity keys of a device. */
export function identityKeys(value: DeviceIdentityKeys | undefined, field = 'identity') {
  check(value !== undefined, field);
  return { signingKey: bytesOf(value.signingKey, 32, `${field}.signing_key`), agreementKey: bytesOf(value.agreementKey, 32, `${field}.agreement_key`) };
}

/** A signed body (device list or certificate), bounded in size. */
export function signedBody(value: SignedBody | undefined, field: string): SignedBodyRow {
  check(value !== undefined && value.body.length > 0 && value.body.length <= 16 * 1024, field);
  return { body: value.body, signature: bytesOf(value.signature, 64, `${field}.signature`) };
}

function signedPreKey(value: SignedPreKey | undefined, length: number, field: string): SignedPreKeyRow | null {
  if (value === undefined) return null;
  return { id: value.id, publicKey: bytesOf(value.publicKey, length, `${field}.public_key`), signature: bytesOf(value.signature, 64, `${field}.signature`) };
}

/** A prekey upload's shape (signatures are checked by the handler against the device key). */
export function preKeyUpload(value: PreKeyUpload | undefined, field = 'pre_keys'): PreKeyUploadRow {
  check(value !== undefined, field);
  check(value.oneTimePreKeys.length <= MAX_ONE_TIME_PREKEYS, `${field}.one_time_pre_keys`, `must hold at most ${MAX_ONE_TIME_PREKEYS}`);
  const ids = new Set(value.oneTimePreKeys.map((key) => key.id));
  check(ids.size === value.oneTimePreKeys.length, `${field}.one_time_pre_keys`, 'must have distinct ids');
  const pqField = `${field}.pq_one_time_pre_keys`;
  check(value.pqOneTimePreKeys.length <= MAX_PQ_ONE_TIME_PREKEYS, pqField, `must hold at most ${MAX_PQ_ONE_TIME_PREKEYS}`);
  const pqIds = new Set(value.pqOneTimePreKeys.map((key) => key.id));
  // One id space for every ML-KEM prekey of a device: an initiation names one by id alone.
  check(pqIds.size === value.pqOneTimePreKeys.length && (value.pqPreKey === undefined || !pqIds.has(value.pqPreKey.id)), pqField, 'must have distinct ids');
  return {
    signedPreKey: signedPreKey(value.signedPreKey, 32, `${field}.signed_pre_key`),
    pqPreKey: signedPreKey(value.pqPreKey, 1184, `${field}.pq_pre_key`),
    oneTimePreKeys: value.oneTimePreKeys.map((key, i) => ({
      id: key.id,
      publicKey: bytesOf(key.publicKey, 32, `${field}.one_time_pre_keys[${i}].public_key`),
    })),
    pqOneTimePreKeys: value.pqOneTimePreKeys.map((key, i) => signedPreKey(key, 1184, `${pqField}[${i}]`)!),
  };
}
