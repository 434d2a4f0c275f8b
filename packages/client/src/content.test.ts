import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeContent, encodeContent } from './content.js';

describe('[FANOUT-1] content padding', () => {
  it('every encoded content is a whole number of 64-byte blocks and decodes to what was given', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 500 }), fc.string({ maxLength: 40 }), (text, chat) => {
        const encoded = encodeContent({
          messageId: new Uint8Array(16).fill(7),
          sentAt: 1_790_000_000_000,
          ...(chat ? { syncChat: chat } : {}),
          senderAccountId: 'alice',
          senderDeviceId: 'a'.repeat(32),
          body: { case: 'text', value: { body: text } },
        });
        expect(encoded.length % 64).toBe(0);
        const decoded = decodeContent(encoded);
        expect(decoded?.body.case === 'text' && decoded.body.value.body).toBe(text);
        expect(decoded?.syncChat).toBe(chat);
        expect([decoded?.senderAccountId, decoded?.senderDeviceId]).toEqual(['alice', 'a'.repeat(32)]);
      }),
      { seed: 64, numRuns: 300 },
    );
  });

  it('refuses bytes that are not content', () => {
    expect(decodeContent(Uint8Array.of(0xff, 0xff, 0xff))).toBeNull();
  });
});
