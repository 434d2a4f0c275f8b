import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { expect, it } from 'vitest';
import { openPostgresStore } from './open-postgres-store.js';
import type { DeviceRow } from './store.js';

const url = process.env.DATABASE_URL!;
it('stress', async () => {
  const schema = `sstore_stress_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  await admin.query(`create schema ${schema}`);
  const store = await openPostgresStore({ connectionString: url, searchPath: schema, maxConnections: 10 });
  try {
    const r = (n: number) => new Uint8Array(randomBytes(n));
    const devices = new Map<string, DeviceRow[]>();
    for (const name of ['a', 'b', 'c']) {
      const mk = (kind: 'primary' | 'companion', i: number): DeviceRow => ({ deviceId: randomBytes(16).toString('hex'), accountId: name, kind, signingKey: r(32), agreementKey: r(32), name: 'x', linkedAt: i, lastActiveAt: 0 });
      const p = mk('primary', 0);
      await store.createAccount({ account: { accountId: name, identityKey: r(32), deviceList: { body: r(4), signature: r(4) }, deviceListVersion: 1, createdAt: 0 }, device: p, preKeys: { signedPreKey: null, pqPreKey: null, oneTimePreKeys: [] } });
      const c = mk('companion', 1);
      const link = { tokenHash: r(32), createdAt: 0, expiresAt: 100, ipAddress: '', userAgent: '', deviceName: 'x', deviceId: c.deviceId, signingKey: c.signingKey, agreementKey: c.agreementKey, preKeys: { signedPreKey: null, pqPreKey: null, oneTimePreKeys: [] } };
      await store.createPendingLink(link);
      expect(await store.linkCompanion({ tokenHash: link.tokenHash, now: 1, accountId: name, expectedListVersion: 1, newList: { body: r(4), signature: r(4) }, maxCompanions: 4, device: c })).toBe('linked');
      devices.set(name, [p, c]);
    }
    const watched = devices.get('a')![0]!.deviceId;
    const seen: number[] = [];
    let done = false;
    const reader = (async () => {
      let cursor = 0;
      while (!done) {
        const rows = await store.readInbox(watched, cursor, 50);
        for (const row of rows) { seen.push(row.seq); cursor = row.seq; }
      }
      for (;;) { const rows = await store.readInbox(watched, cursor, 50); if (rows.length === 0) break; for (const row of rows) { seen.push(row.seq); cursor = row.seq; } }
    })();
    const names = ['a', 'b', 'c'];
    const sends = Array.from({ length: 300 }, (_, i) => {
      const from = names[i % 3]!; const to = names[(i * 7 + 1) % 3]!;
      const sender = devices.get(from)![i % 2]!;
      const targets = [...new Set([...devices.get(to)!, ...devices.get(from)!].map((d) => d.deviceId))].filter((id) => id !== sender.deviceId);
      return store.enqueue({ senderAccountId: from, senderDeviceId: sender.deviceId, recipientAccountId: to, clientMessageId: r(16), envelopes: targets.map((deviceId) => ({ deviceId, content: r(8) })), now: 1, expiresAt: 1000 });
    });
    const results = await Promise.all(sends);
    done = true;
    await reader;
    expect(results.every((x) => x.status === 'accepted')).toBe(true);
    const all = (await store.readInbox(watched, 0, 10000)).map((row) => row.seq);
    console.log('watched rows', all.length, 'seen by cursor', seen.length);
    expect(seen).toEqual(all);
  } finally {
    await store.close();
    await admin.query(`drop schema ${schema} cascade`);
    await admin.end();
  }
});
