// Integration: the phone's security log (SPEC SECLOG-1, SECLOG-2) and the link confirmation's
// network check (SPEC LINK-6). The server runs behind a "proxy" it trusts (TRUSTED_PROXIES), so that
// each client here can come from its own network through X-Forwarded-For; a second server that
// trusts no proxy shows that the header is otherwise ignored.
import { describe, expect, it } from 'vitest';
import { LinkRequest } from '@pairwise/client/link-request';
import { MemoryStore } from '@pairwise/client/memory-store';
import { PairwiseClient } from '@pairwise/client/pairwise-client';
import type { ServerProcess } from './server-process.js';
import { withServerDatabase } from './test-support/server-database.js';
import { useServerProcess } from './test-support/use-server-process.js';
import { connectOptions, eventually, socketsFrom } from './test-clients.js';

let server: ServerProcess;
useServerProcess({ get: () => server, set: (started) => (server = started) }, { env: { TRUSTED_PROXIES: '127.0.0.1' } });
let untrusting: ServerProcess;
useServerProcess({ get: () => untrusting, set: (started) => (untrusting = started) });

const from = socketsFrom;

async function phoneAt(target: ServerProcess, username: string, ip: string): Promise<PairwiseClient> {
  const client = await PairwiseClient.createAccount({ ...connectOptions(target, new MemoryStore()), socketFactory: from(ip), username });
  await client.ready();
  return client;
}

/** A companion at `ip` showing its code. */
async function codeFrom(target: ServerProcess, ip: string, deviceName = 'Browser') {
  const store = new MemoryStore();
  const request = new LinkRequest({ ...connectOptions(target, store), socketFactory: from(ip), deviceName });
  const qr = request.once('qr');
  const linked = request.once('linked');
  await request.start();
  return { request, qr: (await qr).text, linked, store };
}

/** Links a companion at `ip`; returns it connected (from the same address). */
async function linkFrom(phone: PairwiseClient, ip: string, deviceName: string, pin?: string): Promise<PairwiseClient> {
  const { qr, linked, store } = await codeFrom(server, ip, deviceName);
  const { approve } = await phone.inspectLink(qr);
  await approve(pin);
  await linked;
  const companion = (await PairwiseClient.open({ ...connectOptions(server, store), socketFactory: from(ip) }))!;
  await companion.ready();
  return companion;
}

describe('[SECLOG-1] [SECLOG-2] the security log', () => {
  it('records links, removals by whom, PIN and policy changes and wrong PINs, newest first, with coarse networks only', async () => {
    const alice = await phoneAt(server, 'alice_log', '203.0.113.5');
    await alice.setPin('482913');
    const laptop = await linkFrom(alice, '198.51.100.7', 'Laptop', '482913');
    await expect(alice.verifyPin('000000')).rejects.toMatchObject({ code: 'PIN_WRONG' });
    await alice.setPin('705126', '482913');
    const tablet = await linkFrom(alice, '2001:db8:1:2::7', 'Tablet', '705126');
    // The phone's list shows where each device was linked from, coarsened the same way.
    const networks = Object.fromEntries((await alice.devices()).map((device) => [device.deviceId, device.network]));
    expect(networks).toEqual({ [alice.deviceId]: '203.0.113.0/24', [laptop.deviceId]: '198.51.100.0/24', [tablet.deviceId]: '2001:db8:1::/48' });
    await alice.removeDevice(tablet.deviceId);
    await laptop.logOut();
    await eventually(async () => (await alice.devices()).length === 1, 3000, 'the laptop gone');
    await alice.setPolicies({ inactiveDays: 7, phoneUnusedDays: 30 });
    await alice.disablePin('705126');

    const log = await alice.securityLog();
    const phone = { deviceId: alice.deviceId, deviceName: 'Phone', network: '203.0.113.0/24' };
    expect(log.map(({ kind, deviceId, deviceName, actor, network }) => ({ kind, deviceId, deviceName, actor, network }))).toEqual([
      { kind: 'pin-disabled', ...phone, actor: '' },
      { kind: 'policies-changed', ...phone, actor: '' },
      // The SDK logs out over HTTP (for Clear-Site-Data), straight to the server, not through the proxy.
      { kind: 'device-removed', deviceId: laptop.deviceId, deviceName: 'Laptop', actor: 'device', network: '127.0.0.0/24' },
      { kind: 'device-removed', deviceId: tablet.deviceId, deviceName: 'Tablet', actor: 'phone', network: '203.0.113.0/24' },
      { kind: 'device-linked', deviceId: tablet.deviceId, deviceName: 'Tablet', actor: '', network: '2001:db8:1::/48' },
      { kind: 'pin-changed', ...phone, actor: '' },
      { kind: 'pin-failed', ...phone, actor: '' },
      { kind: 'device-linked', deviceId: laptop.deviceId, deviceName: 'Laptop', actor: '', network: '198.51.100.0/24' },
      { kind: 'pin-enabled', ...phone, actor: '' },
    ]);
    for (let i = 1; i < log.length; i++) expect(log[i - 1]!.at).toBeGreaterThanOrEqual(log[i]!.at);
    // Never a full address.
    const text = JSON.stringify(log);
    for (const address of ['203.0.113.5', '198.51.100.7', '2001:db8:1:2::7']) expect(text).not.toContain(address);
    await alice.close();
  });

  it('answers with the newest 200 entries', async () => {
    const alice = await phoneAt(server, 'alice_log_many', '203.0.113.5');
    // Changes of settings are capped far below a page (SECLOG-3): the older entries are removals,
    // written straight into the server's database as if a year of them had happened.
    const start = Date.now() - 1000_000;
    withServerDatabase(server, (db) => {
      const insert = db.prepare(
        "insert into security_events (account_id, at, kind, device_id, device_name, actor, network) values ('alice_log_many', ?, 'device-removed', '', 'Old laptop', 'phone', '')",
      );
      for (let i = 0; i < 250; i++) insert.run(start + i);
    });
    await alice.setPin('482913');
    await alice.disablePin('482913');
    await alice.setPolicies({ inactiveDays: 7, phoneUnusedDays: 30 });
    const log = await alice.securityLog();
    expect(log).toHaveLength(200);
    expect(log[0]!.kind).toBe('policies-changed');
    expect(log[1]!.kind).toBe('pin-disabled');
    expect(log.at(-1)!.at).toBe(start + 250 - 197);
    await alice.close();
  });

  it('logs a run of policy changes once, and an unchanged policy not at all, so that flipping them cannot flush the log', async () => {
    const alice = await phoneAt(server, 'alice_log_flush', '203.0.113.6');
    await alice.setPin('482913');
    const unchanged = await alice.setPolicies({ inactiveDays: 30, phoneUnusedDays: 14 });
    expect(unchanged.inactiveDays).toBe(30);
    for (let i = 0; i < 20; i++) {
      await alice.setPolicies({ inactiveDays: 1, phoneUnusedDays: 0 });
      await alice.setPolicies({ inactiveDays: 90, phoneUnusedDays: 30 });
    }
    const log = await alice.securityLog();
    expect(log.map((entry) => entry.kind)).toEqual(['policies-changed', 'pin-enabled']);
    expect((await alice.refreshSecurity()).inactiveDays).toBe(90);
    await alice.close();
  });
});

describe('[LINK-6] the link confirmation says whether the companion is on the phone\'s network', () => {
  it('compares the IPv4 /24 and the IPv6 /48 of both connections, as the trusted proxy reports them', async () => {
    const phone4 = await phoneAt(server, 'alice_net4', '203.0.113.5');
    const phone6 = await phoneAt(server, 'alice_net6', '2001:db8:1::5');
    const cases: [PairwiseClient, string, boolean][] = [
      [phone4, '203.0.113.77', true],
      [phone4, '::ffff:203.0.113.9', true],
      [phone4, '198.51.100.7', false],
      [phone4, '203.0.114.5', false],
      [phone6, '2001:db8:1:ff::9', true],
      [phone6, '2001:db8:2::9', false],
      [phone6, '203.0.113.77', false],
    ];
    for (const [phone, ip, same] of cases) {
      const { request, qr } = await codeFrom(server, ip);
      const { details } = await phone.inspectLink(qr);
      expect(details.ipAddress, ip).toBe(ip);
      expect(details.sameNetwork, ip).toBe(same);
      request.cancel();
    }
    await Promise.all([phone4.close(), phone6.close()]);
  });

  it('ignores X-Forwarded-For from a proxy it does not trust', async () => {
    const phone = await phoneAt(untrusting, 'alice_untrusted', '203.0.113.5');
    const { request, qr } = await codeFrom(untrusting, '198.51.100.7');
    const { details } = await phone.inspectLink(qr);
    // Both are seen as they connect: from 127.0.0.1, whatever the header claims.
    expect(details.ipAddress).toBe('127.0.0.1');
    expect(details.sameNetwork).toBe(true);
    request.cancel();
    await phone.close();
  });
});
