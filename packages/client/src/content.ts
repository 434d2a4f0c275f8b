/**
 * The plaintext inside envelopes, padded so that ciphertext lengths say little about the text.
 * @module
 */
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { randomBytes } from '@pairwise/crypto/bytes';
import { ContentSchema, type Content } from '@pairwise/protocol/content';

/** Encoded contents are padded up to a multiple of this many bytes. */
const PAD_TO = 64;

/** What a content carries, without its padding (added here). */
export interface ContentFields {
  readonly messageId: Uint8Array;
  readonly sentAt: number;
  readonly syncChat?: string;
  /** Who sends it: receivers refuse a content whose sender is not the envelope's (SPEC CONTENT-1). */
  readonly senderAccountId: string;
  readonly senderDeviceId: string;
  readonly body: NonNullable<MessageInitShape<typeof ContentSchema>['body']>;
}

/** Encodes content with padding. */
export function encodeContent(content: ContentFields): Uint8Array {
  const message = create(ContentSchema, content);
  const bare = toBinary(ContentSchema, message).length;
  // The padding field costs a tag byte and a length byte (it is 1-64 bytes long) besides itself;
  // it is never empty, because an empty field would not be encoded at all.
  const total = Math.ceil((bare + 3) / PAD_TO) * PAD_TO;
  message.padding = randomBytes(total - bare - 2);
  return toBinary(ContentSchema, message);
}

/** A decoded content again, naming `sender` (for outbox entries written before contents named it). */
export function reencodeWithSender(content: Content, sender: { readonly accountId: string; readonly deviceId: string }): Uint8Array {
  const { messageId, sentAt, syncChat, body } = content;
  if (body.case === undefined) throw new TypeError('content has no body');
  return encodeContent({
    messageId,
    sentAt,
    ...(syncChat === '' ? {} : { syncChat }),
    senderAccountId: sender.accountId,
    senderDeviceId: sender.deviceId,
    body,
  });
}

/** Decodes content from a peer; `null` when it is not valid. */
export function decodeContent(bytes: Uint8Array): Content | null {
  try {
    return fromBinary(ContentSchema, bytes, { readUnknownFields: false });
  } catch {
    return null;
  }
}
