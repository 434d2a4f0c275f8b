// Expensive work is bounded (SPEC LIMIT-7, LIMIT-8), against the real server process: a burst of
// "turn on two-step PIN" cannot run hundreds of Argon2id hashes at once, and sign-ins are served
// meanwhile (their latency is printed, not asserted); new accounts are limited per address.
import { randomBytes } from 'node:crypto';
import { MemoryStore } from '@pairwise/client/memory-store';
import { PairwiseClient } from '@pairwise/client/pairwise-client';
import { describe, expect, it } from 'vitest';
import { RawConnection } from './raw-connection.js';
import type { ServerProcess } from './server-process.js';
import { useServerProcess } from './test-support/use-server-process.js';
import { connectOptions, createPrimary, socketsFrom } from './test-clients.js';

let server: ServerProcess;
useServerProcess({ get: () => server, set: (started) => (server = started) });
let gated: ServerProcess;
useServerProcess(
  { get: () => gated, set: (started) => (gated = started) },
  { env: { TRUSTED_PROXIES: '127.0.0.1', REGISTRATIONS_PER_HOUR_PER_ADDRESS: '3' } },
);

const ACCOUNTS = 20;
const REQUESTS_PER_ACCOUNT = 20;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

describe('[LIMIT-7] two-step PIN hashing is bounded', () => {
  it('400 concurrent "turn on PIN" requests: most are refused with SERVER_BUSY, one PIN per account, sign-ins go on', async () => {
    const phones = await Promise.all(
      Array.from({ length: ACCOUNTS }, async (_, i) => {
        const store = new MemoryStore();
        await (await createPrimary(server, `burst_${i}`, store)).close();
        const raw = await RawConnection.open(server);
        expect((await raw.authenticateAs(store, server.origin)).error).toBeUndefined();
        return raw;
      }),
    );
    const loginStore = new MemoryStore();
    await (await createPrimary(server, 'signs_in', loginStore)).close();

    const ids = phones.map((phone) =>
      Array.from({ length: REQUESTS_PER_ACCOUNT }, () => phone.sendRequest({ case: 'setPin', value: { newPin: '482913', currentPin: '' } })),
    );
    // Sign-ins while the burst runs.
    const latencies: number[] = [];
    const signIns = (async () => {
      for (let i = 0; i < 10; i++) {
        const started = performance.now();
        const raw = await RawConnection.open(server);
        const response = await raw.authenticateAs(loginStore, server.origin);
        latencies.push(performance.now() - started);
        expect(response.result.case).toBe('authenticated');
        raw.close();
      }
    })();
    const outcomes = await Promise.all(
      phones.map(async (phone, account) => Promise.all(ids[account]!.map(async (id) => (await phone.response(id, 60_000)).error ?? null))),
    );
    await signIns;
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(`sign-in during the burst: median ${percentile(sorted, 50).toFixed(1)} ms, p95 ${percentile(sorted, 95).toFixed(1)} ms (n=${sorted.length})`);

    const all = outcomes.flat();
    const busy = all.filter((error) => error?.code === 'SERVER_BUSY');
    // At most two requests per account are let in at all; the rest are refused at once, with a time to retry.
    expect(busy.length).toBeGreaterThanOrEqual(ACCOUNTS * (REQUESTS_PER_ACCOUNT - 2));
    expect(busy.every((error) => (error?.retryAt ?? 0) > 0)).toBe(true);
    for (const [account, results] of outcomes.entries()) {
      // Of the requests let in, one turned the PIN on; another found it on already.
      expect(results.filter((error) => error === null).length, `burst_${account}`).toBeLessThanOrEqual(1);
      expect(results.every((error) => error === null || ['SERVER_BUSY', 'PIN_REQUIRED'].includes(error.code))).toBe(true);
    }
    // Every account can turn its PIN on afterwards, and its log says so once.
    for (const phone of phones) {
      const security = await phone.request({ case: 'getSecurity', value: {} });
      if (security.result.case === 'security' && !security.result.value.pinEnabled) {
        expect((await phone.request({ case: 'setPin', value: { newPin: '482913', currentPin: '' } })).error).toBeUndefined();
      }
      const log = await phone.request({ case: 'getSecurityLog', value: {} });
      const kinds = log.result.case === 'securityLog' ? log.result.value.events.map((event) => event.kind) : [];
      expect(kinds.filter((kind) => kind === 'pin-enabled')).toHaveLength(1);
      phone.close();
    }
  }, 120_000);
});

describe('[LIMIT-8] new accounts per address', () => {
  it('past the allowance an address is refused with a time to retry; a taken username costs nothing; other addresses go on', async () => {
    const register = (username: string, ip: string) =>
      PairwiseClient.createAccount({ ...connectOptions(gated, new MemoryStore()), socketFactory: socketsFrom(ip), username });
    const suffix = randomBytes(3).toString('hex');
    await (await register(`first_${suffix}`, '198.51.100.30')).close();
    await expect(register(`first_${suffix}`, '198.51.100.30')).rejects.toMatchObject({ code: 'USERNAME_TAKEN' });
    await (await register(`second_${suffix}`, '198.51.100.30')).close();
    await (await register(`third_${suffix}`, '198.51.100.30')).close();
    const refused = register(`fourth_${suffix}`, '198.51.100.30');
    await expect(refused).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    const error = (await refused.catch((caught: unknown) => caught)) as { retryAt: number };
    expect(error.retryAt).toBeGreaterThan(Date.now());
    expect(error.retryAt).toBeLessThanOrEqual(Date.now() + 60 * 60 * 1000);
    await (await register(`elsewhere_${suffix}`, '203.0.113.30')).close();
  });
});
