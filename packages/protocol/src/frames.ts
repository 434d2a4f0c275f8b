/**
 * Encoding and decoding of whole frames, with the size limit applied before parsing.
 * Decoding is the edge: what comes out is a typed frame whose fields still need the checks in
 * validate.ts, what cannot be parsed is a `ProtocolError`, never a crash.
 * @module
 */
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { ProtocolError } from './errors.js';
import {
  ClientFrameSchema,
  ServerFrameSchema,
  type ClientFrame,
  type ServerFrame,
} from './gen/pairwise/v1/wire_pb.js';
import { MAX_FRAME_BYTES } from './limits.js';

// Unknown fields are dropped, not kept and re-sent: nothing a peer adds travels further.
const READ_OPTIONS = { readUnknownFields: false } as const;

function decode<T>(bytes: Uint8Array, parse: (bytes: Uint8Array) => T): T {
  if (!(bytes instanceof Uint8Array)) throw new ProtocolError('BAD_FRAME', 'frames are binary');
  if (bytes.length > MAX_FRAME_BYTES) throw new ProtocolError('FRAME_TOO_LARGE');
  try {
    return parse(bytes);
  } catch (error) {
    throw new ProtocolError('BAD_FRAME', undefined, { cause: error });
  }
}

/** Parses a frame from a device; throws `ProtocolError` (BAD_FRAME, FRAME_TOO_LARGE). */
export function decodeClientFrame(bytes: Uint8Array): ClientFrame {
  return decode(bytes, (b) => fromBinary(ClientFrameSchema, b, READ_OPTIONS));
}

/** Parses a frame from the server; throws `ProtocolError` (BAD_FRAME, FRAME_TOO_LARGE). */
export function decodeServerFrame(bytes: Uint8Array): ServerFrame {
  return decode(bytes, (b) => fromBinary(ServerFrameSchema, b, READ_OPTIONS));
}

/** Encodes a frame for the server. */
export function encodeClientFrame(frame: MessageInitShape<typeof ClientFrameSchema>): Uint8Array {
  return toBinary(ClientFrameSchema, create(ClientFrameSchema, frame));
}

/** Encodes a frame for a device. */
export function encodeServerFrame(frame: MessageInitShape<typeof ServerFrameSchema>): Uint8Array {
  return toBinary(ServerFrameSchema, create(ServerFrameSchema, frame));
}
