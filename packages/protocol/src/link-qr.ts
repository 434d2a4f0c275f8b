/**
 * The link QR code: what a companion shows and the phone scans.
 *
 *     pairwise-link:1:<base64url(LinkQr)>
 *
 * The prefix makes a Pairwise code recognisable (the phone refuses anything else on its Link
 * screen, and a Link code is useless anywhere else), and the version allows a future format.
 * @module
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { fromBase64Url, toBase64Url } from './base64url.js';
import { LinkQrSchema, type LinkQr } from './gen/pairwise/v1/wire_pb.js';
import { isDeviceId } from './ids.js';
import { LINK_TOKEN_BYTES } from './limits.js';

const PREFIX = 'pairwise-link:1:';
/** A QR code holds about 2,900 bytes at most; ours are about 250 characters. */
const MAX_QR_TEXT = 1024;

/** The contents of a link QR code. */
export interface LinkQrPayload {
  readonly origin: string;
  readonly token: Uint8Array;
  readonly ephemeralKey: Uint8Array;
  readonly deviceId: string;
  readonly signingKey: Uint8Array;
  readonly agreementKey: Uint8Array;
}

/** The text to put in the QR code. */
export function encodeLinkQr(payload: LinkQrPayload): string {
  const message = create(LinkQrSchema, {
    origin: payload.origin,
    token: payload.token,
    ephemeralKey: payload.ephemeralKey,
    deviceId: payload.deviceId,
    identity: { signingKey: payload.signingKey, agreementKey: payload.agreementKey },
  });
  return PREFIX + toBase64Url(toBinary(LinkQrSchema, message));
}

/**
 * Parses a scanned code. Returns `null` for anything that is not a well-formed Pairwise link
 * code: scanned text is untrusted input.
 */
export function decodeLinkQr(text: string): LinkQrPayload | null {
  if (typeof text !== 'string' || text.length > MAX_QR_TEXT || !text.startsWith(PREFIX)) return null;
  const bytes = fromBase64Url(text.slice(PREFIX.length));
  if (bytes === null) return null;
  let message: LinkQr;
  try {
    message = fromBinary(LinkQrSchema, bytes);
  } catch {
    return null;
  }
  const { origin, token, ephemeralKey, deviceId, identity } = message;
  if (!/^https?:\/\/[^/?#\s]+$/.test(origin)) return null;
  if (token.length !== LINK_TOKEN_BYTES || ephemeralKey.length !== 32 || !isDeviceId(deviceId)) return null;
  if (identity?.signingKey.length !== 32 || identity.agreementKey.length !== 32) return null;
  return { origin, token, ephemeralKey, deviceId, signingKey: identity.signingKey, agreementKey: identity.agreementKey };
}
