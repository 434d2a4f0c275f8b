/**
 * The one way the account key signs a structure: Ed25519 over `label || length || body`, where
 * `body` is the structure's canonical encoding. Certificates and device lists both use it, each
 * with its own label (SPEC CRYPTO-4), and travel as the exact signed bytes plus the signature.
 * @module
 */
import { ByteWriter } from './encoding.js';
import { ed25519Sign, ed25519Verify } from './ed25519.js';
import type { CryptoKey } from './webcrypto.js';

/** Signed bytes and the signature over them. */
export interface SignedBody {
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
}

function signedMessage(label: string, body: Uint8Array): Uint8Array {
  return new ByteWriter().string(label).bytes(body).finish();
}

/** Signs `body` under `label`. */
export async function signBody(privateKey: CryptoKey, label: string, body: Uint8Array): Promise<SignedBody> {
  return { body, signature: await ed25519Sign(privateKey, signedMessage(label, body)) };
}

/**
 * The body, if `signed` is a valid signature under `label` by `publicKey`; otherwise `null`.
 * Anything that is not the expected shape (peer data) is `null`, never an exception.
 */
export async function verifySignedBody(signed: SignedBody, publicKey: Uint8Array, label: string): Promise<Uint8Array | null> {
  if (!(signed?.body instanceof Uint8Array) || !(signed.signature instanceof Uint8Array)) return null;
  if (!(publicKey instanceof Uint8Array)) return null;
  return (await ed25519Verify(publicKey, signedMessage(label, signed.body), signed.signature)) ? signed.body : null;
}
