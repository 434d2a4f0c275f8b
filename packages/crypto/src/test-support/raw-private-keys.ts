/**
 * Imports raw private keys from published vectors. WebCrypto imports X25519 and Ed25519 private
 * keys only as PKCS #8 (or JWK), so the raw 32 bytes are wrapped in the fixed PKCS #8 prefix of
 * RFC 8410 section 7. Tests only: production keys are generated inside WebCrypto and never imported.
 */
import { concatBytes, fromHex } from '../bytes.js';
import { subtle, type CryptoKey } from '../webcrypto.js';

// SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.110 }, OCTET STRING { OCTET STRING (32 bytes) } }
const X25519_PKCS8_PREFIX = fromHex('302e020100300506032b656e04220420');
// The same with OID 1.3.101.112 (Ed25519).
const ED25519_PKCS8_PREFIX = fromHex('302e020100300506032b657004220420');

export function importX25519PrivateKey(raw: Uint8Array): Promise<CryptoKey> {
  return subtle.importKey('pkcs8', concatBytes(X25519_PKCS8_PREFIX, raw), { name: 'X25519' }, false, ['deriveBits']);
}

export function importEd25519PrivateKey(raw: Uint8Array): Promise<CryptoKey> {
  return subtle.importKey('pkcs8', concatBytes(ED25519_PKCS8_PREFIX, raw), { name: 'Ed25519' }, false, ['sign']);
}
