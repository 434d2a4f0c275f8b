// The file store against the ClientStore contract, plus what only files can get wrong: atomic
// writes, damaged files, permissions, and keys that must be extractable to be written.
import type { webcrypto } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreTable } from '../client-store.js';
import { StoreCorruptError } from '../store-errors.js';
import { describeClientStoreContract } from '../test-support/client-store-contract.js';
import { DeviceInUseError } from '../device-lock.js';
import { FileStore } from './file-store.js';
import { LOCK_FILE, takeLockFile } from './lock-file.js';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pairwise-file-store-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describeClientStoreContract('FileStore', () => FileStore.open(join(root, 'contract')), { persistent: true });

describe('FileStore', () => {
  let counter = 0;
  const directory = (): string => join(root, `case-${++counter}`);

  it('needs extractable keys', async () => {
    const store = await FileStore.open(directory());
    expect(store.needsExtractableKeys).toBe(true);
    await store.close();
  });

  it('refuses a directory that is not a path', async () => {
    await expect(FileStore.open('')).rejects.toThrow(/^directory must be/);
    await expect(FileStore.open(undefined as unknown as string)).rejects.toBeInstanceOf(TypeError);
  });

  it('[STORE-4] tells the caller that a non-extractable key needs an extractable one', async () => {
    const store = await FileStore.open(directory());
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt']);
    await expect(store.put(StoreTable.Sessions, 'peer/1', { chain: [key] })).rejects.toThrow(
      'the file store needs extractable keys: the CryptoKey in key "peer/1" in table sessions is not extractable',
    );
    await store.close();
  });

  it('[STORE-1] re-imports X25519 and HMAC keys from their JWKs across a re-open', async () => {
    const dir = directory();
    const store = await FileStore.open(dir);
    const agreement = (await crypto.subtle.generateKey({ name: 'X25519' }, true, ['deriveBits'])) as CryptoKeyPair;
    const peer = (await crypto.subtle.generateKey({ name: 'X25519' }, true, ['deriveBits'])) as CryptoKeyPair;
    const mac = await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, true, ['sign', 'verify']);
    await store.put(StoreTable.PreKeys, 'keys', { agreement, mac });
    await store.close();
    const again = await FileStore.open(dir);
    const got = await again.get<{ agreement: CryptoKeyPair; mac: CryptoKey }>(StoreTable.PreKeys, 'keys');
    const shared = async (privateKey: CryptoKey, publicKey: CryptoKey): Promise<number[]> =>
      Array.from(new Uint8Array(await crypto.subtle.deriveBits({ name: 'X25519', public: publicKey }, privateKey, 256)));
    expect(await shared(got!.agreement.privateKey, peer.publicKey)).toEqual(
      await shared(peer.privateKey, agreement.publicKey),
    );
    expect(await shared(peer.privateKey, got!.agreement.publicKey)).toEqual(
      await shared(agreement.privateKey, peer.publicKey),
    );
    expect(got!.mac.algorithm).toEqual(mac.algorithm);
    const tag = await crypto.subtle.sign('HMAC', got!.mac, Uint8Array.of(1));
    expect(await crypto.subtle.verify('HMAC', mac, tag, Uint8Array.of(1))).toBe(true);
    await again.close();
  });

  it('writes one file per table, owner-only, and leaves no temporary file behind', async () => {
    const dir = directory();
    const store = await FileStore.open(dir);
    await Promise.all(
      Array.from({ length: 30 }, (_, index) => store.put(StoreTable.Messages, `chat/${index}`, { index })),
    );
    await store.put(StoreTable.Identity, 'self', { accountId: 'a' });
    await store.close();
    expect((await readdir(dir)).sort()).toEqual(['identity.json', 'messages.json']);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'identity.json'))).mode & 0o777).toBe(0o600);
    const file = JSON.parse(await readFile(join(dir, 'messages.json'), 'utf8')) as { entries: unknown[] };
    expect(file.entries).toHaveLength(30);
  });

  it('removes a table file when its last entry is deleted', async () => {
    const dir = directory();
    const store = await FileStore.open(dir);
    await store.put(StoreTable.Seen, 'x', true);
    await store.delete(StoreTable.Seen, 'x');
    // Only the lock file, held while the store is open.
    expect(await readdir(dir)).toEqual([LOCK_FILE]);
    await store.close();
    expect(await readdir(dir)).toEqual([]);
  });

  it('ignores and removes a temporary file left by a crash mid-write, keeping the committed data', async () => {
    const dir = directory();
    const store = await FileStore.open(dir);
    await store.put(StoreTable.Meta, 'committed', 1);
    await store.close();
    // What a crash between writing the temporary file and renaming it leaves behind.
    const temp = 'meta.json.0b5e3f0c-6a43-4e6c-9a1f-3f2c2f5f9d11.tmp';
    await writeFile(join(dir, temp), '{"format":"pairwise-client-store","version":1,"tab');
    const again = await FileStore.open(dir);
    expect(await again.get(StoreTable.Meta, 'committed')).toBe(1);
    expect((await readdir(dir)).sort()).toEqual([LOCK_FILE, 'meta.json']);
    await again.close();
  });

  it('refuses to open a damaged file, says which, and leaves it untouched', async () => {
    const dir = directory();
    const store = await FileStore.open(dir);
    await store.put(StoreTable.Sessions, 'peer/1', { bytes: Uint8Array.of(1) });
    await store.close();
    const file = join(dir, 'sessions.json');
    const damaged = [
      ['{"format":"pairwise-client-store","vers', /sessions\.json is not valid JSON/],
      ['[]', /is not a store file/],
      ['{"format":"something-else"}', /is not a store file/],
      ['{"format":"pairwise-client-store","version":2,"table":"sessions","entries":[]}', /has version 2/],
      ['{"format":"pairwise-client-store","version":1,"table":"meta","entries":[]}', /holds table meta/],
      ['{"format":"pairwise-client-store","version":1,"table":"sessions","entries":[["k"]]}', /malformed entry/],
      [
        '{"format":"pairwise-client-store","version":1,"table":"sessions","entries":[["k",1],["k",2]]}',
        /key "k" twice/,
      ],
      [
        '{"format":"pairwise-client-store","version":1,"table":"sessions","entries":[["k",{"$bytes":"%%"}]]}',
        /malformed value for key "k": value\.\$bytes is not base64/,
      ],
      [
        '{"format":"pairwise-client-store","version":1,"table":"sessions","entries":[["k",{"a":1}]]}',
        /unknown tag "a"/,
      ],
    ] as const;
    for (const [text, message] of damaged) {
      await writeFile(file, text);
      const error = await FileStore.open(dir).then(
        () => null,
        (reason: unknown) => reason,
      );
      expect(error, text).toBeInstanceOf(StoreCorruptError);
      expect((error as Error).message, text).toMatch(message);
      expect((error as Error).message, text).toContain(file);
      expect(await readFile(file, 'utf8'), text).toBe(text);
    }
  });

  it('reports a key that can no longer be imported as a damaged store, not as a bare crypto error', async () => {
    const dir = directory();
    const store = await FileStore.open(dir);
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt']);
    await store.put(StoreTable.Identity, 'self', key);
    await store.close();
    const file = join(dir, 'identity.json');
    await writeFile(file, (await readFile(file, 'utf8')).replace(/"k":"[^"]+"/, '"k":"AAAA"'));
    const again = await FileStore.open(dir);
    await expect(again.get(StoreTable.Identity, 'self')).rejects.toBeInstanceOf(StoreCorruptError);
    await again.close();
  });

  it('[STORE-2] wipe deletes its files and the directory, but not files it does not own', async () => {
    const own = directory();
    const store = await FileStore.open(own);
    await store.put(StoreTable.Meta, 'k', 1);
    await store.wipe();
    await expect(stat(own)).rejects.toMatchObject({ code: 'ENOENT' });

    const shared = directory();
    const other = await FileStore.open(shared);
    await other.put(StoreTable.Meta, 'k', 1);
    await writeFile(join(shared, 'notes.txt'), 'not ours');
    await other.wipe();
    expect(await readdir(shared)).toEqual(['notes.txt']);
  });

  it('[DEVICE-1] a second store on the same directory is refused while the first is open, and may open once it is closed', async () => {
    const dir = directory();
    const first = await FileStore.open(dir);
    await first.put(StoreTable.Meta, 'k', 1);
    await expect(FileStore.open(dir)).rejects.toBeInstanceOf(DeviceInUseError);
    await first.close();
    const second = await FileStore.open(dir);
    expect(await second.get(StoreTable.Meta, 'k')).toBe(1);
    await second.wipe();
    await expect(readdir(dir)).rejects.toThrow(/ENOENT/);
  });

  it('[DEVICE-1] a lock left by a process that no longer runs is taken over; one of a live process is refused, naming it', async () => {
    const dir = directory();
    await mkdir(dir, { recursive: true });
    const lockOf = (pid: number) => JSON.stringify({ pid, host: hostname(), token: `held-by-${pid}` });
    const live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      await writeFile(join(dir, LOCK_FILE), lockOf(live.pid!));
      await expect(FileStore.open(dir)).rejects.toThrow(new RegExp(`pid ${live.pid}`));
      expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe(lockOf(live.pid!));
    } finally {
      live.kill('SIGKILL');
      await new Promise((resolve) => live.once('exit', resolve));
    }
    // The same file, its process gone: stale.
    const store = await FileStore.open(dir);
    expect(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
    await store.close();
  });

  it('[DEVICE-1] two clients of one store take turns: the second is refused until the first lets go', async () => {
    const store = await FileStore.open(directory());
    const first = await store.acquireDeviceLock();
    await expect(store.acquireDeviceLock()).rejects.toBeInstanceOf(DeviceInUseError);
    // Asked to take over, the holder hears it and the newcomer waits for it to let go.
    const second = store.acquireDeviceLock({ takeOver: true });
    await first.takeOverRequested;
    await first.release();
    await (await second).release();
    await store.close();
  });

  /** A pid no process has now: one that ran and exited. */
  async function deadPid(): Promise<number> {
    const gone = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await new Promise((resolve) => gone.once('exit', resolve));
    return gone.pid!;
  }

  it('[DEVICE-1] of many processes taking over one stale lock at once, exactly one gets it and the others are refused', async () => {
    const dir = directory();
    await mkdir(dir, { recursive: true });
    const pid = await deadPid();
    for (let round = 0; round < 5; round++) {
      await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid, host: hostname(), token: `stale-${round}` }));
      const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => takeLockFile(dir)));
      const held = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      expect(held).toHaveLength(1);
      for (const outcome of outcomes) if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(DeviceInUseError);
      // The winner's lock is the one on disk, whole; nothing else is left in the directory.
      expect(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
      expect(await readdir(dir)).toEqual([LOCK_FILE]);
      await held[0]!.value.release();
      expect(await readdir(dir)).toEqual([]);
    }
  });

  it('[DEVICE-1] a damaged lock file is taken over; a guard left by a killed takeover only once it is old', async () => {
    const dir = directory();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, LOCK_FILE), '{"pid": 12');
    const taken = await takeLockFile(dir);
    await taken.release();

    const pid = await deadPid();
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid, host: hostname(), token: 'stale' }));
    const guard = join(dir, `${LOCK_FILE}.guard`);
    await mkdir(guard);
    // A fresh guard: someone is taking over right now, so this process does not.
    await expect(takeLockFile(dir)).rejects.toBeInstanceOf(DeviceInUseError);
    expect(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ token: 'stale' });
    // Its process died inside the guard long ago: the guard goes, then the stale lock.
    const old = new Date(Date.now() - 60_000);
    await utimes(guard, old, old);
    const after = await takeLockFile(dir);
    expect(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
    await after.release();
  });
});
