import { describe, expect, it } from 'vitest';
import { fromUtf8, utf8 } from './bytes.js';
import { openHistoryRecord, sealHistoryRecord } from './history-record.js';
import { generateX25519KeyPair } from './x25519.js';

describe('[LOCK-1] history records', () => {
  it('open only under the table and key they were sealed for', async () => {
    const history = await generateX25519KeyPair();
    const sealed = await sealHistoryRecord(history.publicKey, 'messages', 'bob/1', utf8('hi bob'));
    expect(String.fromCharCode(...sealed)).not.toContain('hi bob');
    const opened = await openHistoryRecord(history, 'messages', 'bob/1', sealed);
    expect(opened && fromUtf8(opened)).toBe('hi bob');
    expect(await openHistoryRecord(history, 'messages', 'carol/1', sealed)).toBeNull();
    expect(await openHistoryRecord(history, 'outbox', 'bob/1', sealed)).toBeNull();
    expect(await openHistoryRecord(await generateX25519KeyPair(), 'messages', 'bob/1', sealed)).toBeNull();
  });
});
