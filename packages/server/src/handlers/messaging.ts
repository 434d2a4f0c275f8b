/**
 * Sending and acknowledging messages (SPEC INBOX-*). A send is committed durably for every
 * device before the sender hears "accepted"; rows leave the server only when their device
 * acknowledges them or they expire.
 * @module
 */
import { ProtocolError } from '@pairwise/protocol/errors';
import { CLIENT_MESSAGE_ID_BYTES, INBOX_TTL_MS, MAX_CONTENT_BYTES, MAX_ENVELOPES } from '@pairwise/protocol/limits';
import type { AckInbox, SendMessage } from '@pairwise/protocol/wire';
import { DevicesChangedError, InboxFullError, type Connection, type ResponseResult } from '../ws/connection.js';
import type { Config } from '../config.js';
import type { InboxQuota } from '../store/store.js';
import { bytesOf, check, deviceId } from '../validate.js';
import { accountDevices } from './account-devices.js';

/** Most seqs acknowledged in one frame. */
const MAX_ACKS = 1000;

export async function sendMessage(connection: Connection, body: SendMessage): Promise<ResponseResult> {
  const { ctx } = connection;
  const sender = connection.device;
  if (sender === null) throw new ProtocolError('NOT_AUTHENTICATED');
  const clientMessageId = bytesOf(body.clientMessageId, CLIENT_MESSAGE_ID_BYTES, 'client_message_id');
  // No envelope at all asks whether another account has a current device yet (SPEC FANOUT-1).
  check(body.envelopes.length <= MAX_ENVELOPES, 'envelopes', `must number at most ${MAX_ENVELOPES}`);
  check(body.envelopes.length > 0 || body.recipientAccountId !== sender.accountId, 'envelopes', 'must not be empty for a note to self');
  const envelopes = body.envelopes.map((envelope, i) => {
    check(envelope.content.length > 0 && envelope.content.length <= MAX_CONTENT_BYTES, `envelopes[${i}].content`);
    return { deviceId: deviceId(envelope.deviceId, `envelopes[${i}].device_id`), content: envelope.content };
  });
  const now = ctx.clock.now();
  const result = await ctx.store.enqueue({
    senderAccountId: sender.accountId,
    senderDeviceId: sender.deviceId,
    recipientAccountId: body.recipientAccountId,
    clientMessageId,
    envelopes,
    now,
    expiresAt: now + INBOX_TTL_MS,
    quota: inboxQuota(ctx.config),
  });
  if (result.status === 'devices-changed') {
    // An unknown recipient is one reason (the store refuses it as devices that do not match):
    // told apart here, off the path of every accepted send.
    const accountIds = [...new Set([body.recipientAccountId, sender.accountId])];
    const accounts = await Promise.all(accountIds.map((accountId) => accountDevices(ctx, accountId)));
    if (accounts[0] === null) throw new ProtocolError('UNKNOWN_ACCOUNT');
    throw new DevicesChangedError(accounts.filter((account) => account !== null));
  }
  if (result.status === 'sender-not-current') throw new ProtocolError('SENDER_NOT_CURRENT');
  if (result.status === 'recipient-unavailable') throw new ProtocolError('RECIPIENT_UNAVAILABLE');
  // Until the recipient's device collects what waits for it (SPEC LIMIT-3).
  if (result.status === 'inbox-full') throw new InboxFullError(result.deviceIds);
  if (result.status === 'accepted') {
    ctx.metrics.sendAccepted();
    // Straight to the recipients' connections here that are caught up (SPEC INBOX-7); the event
    // wakes the others, here and on other nodes, which read the rows from the store.
    const content = new Map(envelopes.map((envelope) => [envelope.deviceId, envelope.content]));
    const rows = result.seqs.map(({ deviceId, seq, previousSeq }) => ({
      previousSeq,
      row: {
        seq,
        deviceId,
        serverTime: now,
        item: { kind: 'message' as const, senderAccountId: sender.accountId, senderDeviceId: sender.deviceId, clientMessageId, content: content.get(deviceId)! },
      },
    }));
    try {
      ctx.hub.stored(rows);
    } catch (error) {
      // The rows are stored: the event below still wakes every pump, which reads them.
      ctx.log.error({ err: error instanceof Error ? error.name : String(error) }, 'direct delivery failed');
    }
    await ctx.bus.publish({ type: 'inbox', deviceIds: result.seqs.map((row) => row.deviceId), seqs: result.seqs.map((row) => row.seq) });
  }
  return { case: 'sendResult', value: { serverTime: now, duplicate: result.status === 'duplicate' } };
}

/** The operator's inbox quota (SPEC LIMIT-3). */
function inboxQuota(config: Config): InboxQuota {
  const { inboxMaxMessages, inboxMaxBytes, inboxMaxMessagesPerSender, inboxMaxBytesPerSender } = config.limits;
  return { maxMessages: inboxMaxMessages, maxBytes: inboxMaxBytes, maxMessagesPerSender: inboxMaxMessagesPerSender, maxBytesPerSender: inboxMaxBytesPerSender };
}

export function ackInbox(connection: Connection, body: AckInbox): Promise<ResponseResult> {
  const device = connection.device;
  if (device === null) throw new ProtocolError('NOT_AUTHENTICATED');
  check(body.seqs.length <= MAX_ACKS, 'seqs', `must number at most ${MAX_ACKS}`);
  check(body.seqs.every((seq) => Number.isSafeInteger(seq) && seq > 0), 'seqs');
  // Written within milliseconds, with others' (ack-writer.ts): a lost one only delivers the row again.
  connection.ctx.acks.add(device.deviceId, body.seqs);
  connection.ctx.metrics.acknowledged(body.seqs.length);
  connection.ctx.hub.acknowledged(connection, body.seqs);
  return Promise.resolve({ case: 'ok', value: {} });
}
