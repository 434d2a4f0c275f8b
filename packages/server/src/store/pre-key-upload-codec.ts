/**
 * A pending link's prekey upload, stored as one JSON text column (bytes in base64). The upload
 * only waits there for at most a link token's lifetime and is always read back whole, so it
 * needs no columns of its own; JSON text reads the same on SQLite and PostgreSQL.
 * @module
 */
import { CorruptRowError } from './rows.js';
import type { OneTimePreKeyRow, PreKeyUploadRow, SignedPreKeyRow } from './store.js';

interface EncodedSignedPreKey {
  id: number;
  publicKey: string;
  signature: string;
}

interface EncodedUpload {
  v: 1;
  signedPreKey: EncodedSignedPreKey | null;
  pqPreKey: EncodedSignedPreKey | null;
  oneTimePreKeys: { id: number; publicKey: string }[];
  /** Absent in links stored before one-time ML-KEM prekeys existed (they live 60 s at most). */
  pqOneTimePreKeys?: EncodedSignedPreKey[];
}

const toBase64 = (value: Uint8Array): string => Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');

function fromBase64(value: unknown): Uint8Array {
  if (typeof value !== 'string') throw new CorruptRowError('pending link prekeys: bytes expected');
  return new Uint8Array(Buffer.from(value, 'base64'));
}

function id(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new CorruptRowError('pending link prekeys: id expected');
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function encodeSigned(key: SignedPreKeyRow | null): EncodedSignedPreKey | null {
  return key === null ? null : { id: key.id, publicKey: toBase64(key.publicKey), signature: toBase64(key.signature) };
}

function decodeSigned(value: unknown): SignedPreKeyRow | null {
  if (value === null) return null;
  if (!isRecord(value)) throw new CorruptRowError('pending link prekeys: signed prekey expected');
  return { id: id(value.id), publicKey: fromBase64(value.publicKey), signature: fromBase64(value.signature) };
}

/** The upload as stored in `pending_links.pre_keys`. */
export function encodePreKeyUpload(upload: PreKeyUploadRow): string {
  const encoded: EncodedUpload = {
    v: 1,
    signedPreKey: encodeSigned(upload.signedPreKey),
    pqPreKey: encodeSigned(upload.pqPreKey),
    oneTimePreKeys: upload.oneTimePreKeys.map((key) => ({ id: key.id, publicKey: toBase64(key.publicKey) })),
    pqOneTimePreKeys: upload.pqOneTimePreKeys.map((key) => encodeSigned(key)!),
  };
  return JSON.stringify(encoded);
}

/** Reads back what `encodePreKeyUpload` wrote; throws `CorruptRowError` on anything else. */
export function decodePreKeyUpload(stored: string): PreKeyUploadRow {
  const value: unknown = JSON.parse(stored);
  if (!isRecord(value) || value.v !== 1 || !Array.isArray(value.oneTimePreKeys)) {
    throw new CorruptRowError('pending link prekeys: unknown encoding');
  }
  const oneTimePreKeys = (value.oneTimePreKeys as unknown[]).map((key): OneTimePreKeyRow => {
    if (!isRecord(key)) throw new CorruptRowError('pending link prekeys: one-time prekey expected');
    return { id: id(key.id), publicKey: fromBase64(key.publicKey) };
  });
  const pqOneTime = value.pqOneTimePreKeys ?? [];
  if (!Array.isArray(pqOneTime)) throw new CorruptRowError('pending link prekeys: one-time ML-KEM prekeys expected');
  const pqOneTimePreKeys = (pqOneTime as unknown[]).map((key): SignedPreKeyRow => {
    const decoded = decodeSigned(key);
    if (decoded === null) throw new CorruptRowError('pending link prekeys: one-time ML-KEM prekey expected');
    return decoded;
  });
  return { signedPreKey: decodeSigned(value.signedPreKey), pqPreKey: decodeSigned(value.pqPreKey), oneTimePreKeys, pqOneTimePreKeys };
}
