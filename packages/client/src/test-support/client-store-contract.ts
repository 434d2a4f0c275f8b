/**
 * The contract every `ClientStore` must meet, as one vitest suite run against each backend (the
 * memory store in Node and Chromium, the file store in Node, IndexedDB in Chromium). Test names
 * carry the SPEC rule they check:
 *
 * - STORE-1: what is put is what is got (every storable kind, by value, in call order) and, for a
 *   persistent store, what a store opened again finds;
 * - STORE-2: wipe removes everything, and a wiped or closed store refuses further use;
 * - STORE-3: keys are any strings, tables are independent, list is ordered and filtered by prefix;
 * - STORE-4: only storable values are accepted, and `CryptoKey` extractability is kept or refused
 *   as `needsExtractableKeys` says.
 *
 * It is longer than most files because it is one contract; splitting it would scatter the rules.
 * @module
 */
import { afterEach, describe, expect, it } from 'vitest';
import { STORE_TABLES, StoreTable, type ClientStore } from '../client-store.js';
import { StoreClosedError } from '../store-errors.js';

/** How the suite treats one backend. */
export interface ClientStoreContractOptions {
  /** Whether a store opened again after `close()` sees what an earlier one stored. */
  readonly persistent: boolean;
}

// WebCrypto, typed here with only what the suite calls, so that it compiles under the Node
// types of tsconfig.tests.json and the DOM types of the browser tests alike.
interface TestKey {
  readonly type: string;
  readonly extractable: boolean;
  readonly algorithm: { readonly name: string };
  readonly usages: readonly string[];
}
interface TestKeyPair {
  readonly publicKey: TestKey;
  readonly privateKey: TestKey;
}
interface TestSubtle {
  generateKey(algorithm: { name: string; length?: number }, extractable: boolean, usages: string[]): Promise<unknown>;
  encrypt(algorithm: { name: 'AES-GCM'; iv: Uint8Array }, key: TestKey, data: Uint8Array): Promise<ArrayBuffer>;
  decrypt(algorithm: { name: 'AES-GCM'; iv: Uint8Array }, key: TestKey, data: ArrayBuffer): Promise<ArrayBuffer>;
  sign(algorithm: 'Ed25519', key: TestKey, data: Uint8Array): Promise<ArrayBuffer>;
  verify(algorithm: 'Ed25519', key: TestKey, signature: ArrayBuffer, data: Uint8Array): Promise<boolean>;
  exportKey(format: 'raw', key: TestKey): Promise<ArrayBuffer>;
}
const subtle = (globalThis as unknown as { crypto: { subtle: TestSubtle } }).crypto.subtle;

async function aesKey(extractable: boolean): Promise<TestKey> {
  return (await subtle.generateKey({ name: 'AES-GCM', length: 256 }, extractable, ['encrypt', 'decrypt'])) as TestKey;
}

async function ed25519Pair(extractable: boolean): Promise<TestKeyPair> {
  return (await subtle.generateKey({ name: 'Ed25519' }, extractable, ['sign', 'verify'])) as TestKeyPair;
}

/** Fails unless `stored` is a key equivalent to `original`: same kind, flags, and still usable. */
async function expectSameAesKey(stored: TestKey, original: TestKey): Promise<void> {
  expect(stored.type).toBe('secret');
  expect(stored.algorithm.name).toBe('AES-GCM');
  expect(stored.extractable).toBe(original.extractable);
  expect([...stored.usages].sort()).toEqual([...original.usages].sort());
  const iv = new Uint8Array(12).fill(7);
  const sealed = await subtle.encrypt({ name: 'AES-GCM', iv }, original, Uint8Array.of(1, 2, 3));
  expect(new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv }, stored, sealed))).toEqual(Uint8Array.of(1, 2, 3));
}

async function expectSameSigningKey(stored: TestKey, original: TestKeyPair): Promise<void> {
  expect(stored.type).toBe('private');
  expect(stored.algorithm.name).toBe('Ed25519');
  expect(stored.extractable).toBe(original.privateKey.extractable);
  const message = Uint8Array.of(4, 5, 6);
  const signature = await subtle.sign('Ed25519', stored, message);
  expect(await subtle.verify('Ed25519', original.publicKey, signature, message)).toBe(true);
}

/** Every storable kind of value, without bytes and keys (checked in their own tests). */
function plainValues(): Record<string, unknown> {
  const nullPrototype = Object.create(null) as Record<string, unknown>;
  nullPrototype.inside = 1;
  return {
    string: 'text',
    empty: '',
    unicode: 'ünïcødé 😀 \u0000 \uffff',
    zero: 0,
    negative: -1.5,
    large: Number.MAX_SAFE_INTEGER,
    small: Number.MIN_VALUE,
    yes: true,
    no: false,
    nothing: null,
    emptyArray: [],
    emptyObject: {},
    mixedArray: [1, 'a', null, [true, []], { b: 2 }],
    nested: { a: { b: { c: [{ d: 1 }, { e: 'f' }] } }, g: null },
    // Own members that look like the file store's tags must come back as members.
    tagLookalike: { $bytes: 'AAAA', $object: { x: 1 }, $key: null },
    nullPrototype,
  };
}

/**
 * Registers the `ClientStore` contract for one backend. `open` must open the same backing
 * storage every time (the same directory, the same database name); each test starts by wiping
 * it, so it must hold nothing else of value.
 */
export function describeClientStoreContract(
  name: string,
  open: () => Promise<ClientStore>,
  options: ClientStoreContractOptions,
): void {
  describe(`ClientStore contract: ${name}`, () => {
    const opened: ClientStore[] = [];

    async function openStore(): Promise<ClientStore> {
      const store = await open();
      opened.push(store);
      return store;
    }

    // An empty store, whatever an earlier (perhaps failed) test left behind.
    async function fresh(): Promise<ClientStore> {
      await (await open()).wipe();
      return openStore();
    }

    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
      await (await open()).wipe();
    });

    it('[STORE-1] round-trips every storable kind of plain value', async () => {
      const store = await fresh();
      const values = plainValues();
      for (const [key, value] of Object.entries(values)) await store.put(StoreTable.Meta, key, value);
      for (const [key, value] of Object.entries(values)) {
        expect(await store.get(StoreTable.Meta, key), key).toEqual(value);
      }
      // The whole record at once too, as the SDK stores them.
      await store.put(StoreTable.Meta, 'record', values);
      expect(await store.get(StoreTable.Meta, 'record')).toEqual(values);
    });

    it('[STORE-1] an own "__proto__" member of a value stays a member and pollutes nothing', async () => {
      const store = await fresh();
      const value = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as Record<string, unknown>;
      await store.put(StoreTable.Contacts, 'odd', value);
      const got = await store.get<Record<string, unknown>>(StoreTable.Contacts, 'odd');
      expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(got, '__proto__')?.value).toEqual({ polluted: true });
      expect(got?.x).toBe(1);
      expect((got as { polluted?: unknown }).polluted).toBeUndefined();
      expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    });

    it('[STORE-1] returns a Uint8Array with the same bytes (only the bytes of a view)', async () => {
      const store = await fresh();
      const all = Uint8Array.from({ length: 256 }, (_, index) => index);
      const view = all.subarray(10, 20);
      await store.put(StoreTable.PreKeys, 'all', all);
      await store.put(StoreTable.PreKeys, 'view', view);
      await store.put(StoreTable.PreKeys, 'empty', new Uint8Array(0));
      await store.put(StoreTable.PreKeys, 'nested', { bytes: [view, all] });
      for (const [key, expected] of [['all', all], ['view', view], ['empty', new Uint8Array(0)]] as const) {
        const got = await store.get<Uint8Array>(StoreTable.PreKeys, key);
        expect(Object.getPrototypeOf(got), key).toBe(Uint8Array.prototype);
        expect(Array.from(got!), key).toEqual(Array.from(expected));
      }
      const nested = await store.get<{ bytes: Uint8Array[] }>(StoreTable.PreKeys, 'nested');
      expect(nested?.bytes.map((bytes) => Array.from(bytes))).toEqual([Array.from(view), Array.from(all)]);
    });

    it('[STORE-1] returns CryptoKeys that still work, with the same flags and usages', async () => {
      const store = await fresh();
      const secret = await aesKey(true);
      const signing = await ed25519Pair(true);
      await store.put(StoreTable.Identity, 'self', { secret, signing, publicKey: signing.publicKey });
      const got = await store.get<{ secret: TestKey; signing: TestKeyPair; publicKey: TestKey }>(
        StoreTable.Identity,
        'self',
      );
      await expectSameAesKey(got!.secret, secret);
      await expectSameSigningKey(got!.signing.privateKey, signing);
      expect(got!.publicKey.type).toBe('public');
      expect(new Uint8Array(await subtle.exportKey('raw', got!.publicKey))).toEqual(
        new Uint8Array(await subtle.exportKey('raw', signing.publicKey)),
      );
    });

    it('[STORE-1] keeps values by value: changing one after put or after get changes nothing stored', async () => {
      const store = await fresh();
      const value = { list: [1, 2], bytes: Uint8Array.of(1, 2, 3), inner: { name: 'a' } };
      const putting = store.put(StoreTable.Sessions, 'peer/1', value);
      // Changed before the put has even completed: the store copied it when called.
      value.list.push(3);
      value.bytes[0] = 99;
      await putting;
      value.inner.name = 'b';
      const first = await store.get<typeof value>(StoreTable.Sessions, 'peer/1');
      expect(first).toEqual({ list: [1, 2], bytes: Uint8Array.of(1, 2, 3), inner: { name: 'a' } });
      first!.list.push(4);
      first!.bytes[1] = 99;
      expect(await store.get(StoreTable.Sessions, 'peer/1')).toEqual({
        list: [1, 2],
        bytes: Uint8Array.of(1, 2, 3),
        inner: { name: 'a' },
      });
    });

    it('[STORE-1] runs calls in order: the last put wins, and a read sees the writes called before it', async () => {
      const store = await fresh();
      const calls: Promise<unknown>[] = [];
      for (let index = 0; index < 20; index++) {
        calls.push(store.put(StoreTable.Outbox, 'same', index), store.put(StoreTable.Outbox, `key-${index}`, index));
      }
      const read = store.get(StoreTable.Outbox, 'same');
      const listed = store.list(StoreTable.Outbox, 'key-');
      calls.push(store.delete(StoreTable.Outbox, 'key-0'));
      await Promise.all(calls);
      expect(await read).toBe(19);
      expect((await listed).length).toBe(20);
      expect(await store.get(StoreTable.Outbox, 'same')).toBe(19);
      expect((await store.list(StoreTable.Outbox, 'key-')).length).toBe(19);
    });

    it(
      options.persistent
        ? '[STORE-1] a store opened again finds what was stored before close, keys included'
        : '[STORE-1] a store opened again starts empty: nothing outlives close',
      async () => {
        const store = await fresh();
        const secret = await aesKey(true);
        await store.put(StoreTable.Identity, 'self', { accountId: 'a1', secret });
        await store.put(StoreTable.Messages, 'chat/1', { text: 'hello', bytes: Uint8Array.of(1) });
        await store.put(StoreTable.Messages, 'chat/2', 'gone');
        await store.delete(StoreTable.Messages, 'chat/2');
        await store.close();
        const again = await openStore();
        if (!options.persistent) {
          for (const table of STORE_TABLES) expect(await again.list(table), table).toEqual([]);
          return;
        }
        const identity = await again.get<{ accountId: string; secret: TestKey }>(StoreTable.Identity, 'self');
        expect(identity?.accountId).toBe('a1');
        await expectSameAesKey(identity!.secret, secret);
        expect(await again.list(StoreTable.Messages)).toEqual([['chat/1', { text: 'hello', bytes: Uint8Array.of(1) }]]);
      },
    );

    it('[STORE-2] wipe removes every entry of every table, and a store opened afterwards is empty', async () => {
      const store = await fresh();
      for (const table of STORE_TABLES) {
        await store.put(table, 'one', { table });
        await store.put(table, 'two', Uint8Array.of(2));
      }
      await store.wipe();
      const again = await openStore();
      for (const table of STORE_TABLES) {
        expect(await again.list(table), table).toEqual([]);
        expect(await again.get(table, 'one'), table).toBeUndefined();
      }
    });

    it('[STORE-2] a wiped or closed store refuses further use; closing twice is fine', async () => {
      const wiped = await fresh();
      await wiped.put(StoreTable.Meta, 'k', 1);
      await wiped.wipe();
      const closed = await openStore();
      await closed.close();
      await closed.close();
      for (const store of [wiped, closed]) {
        await expect(store.get(StoreTable.Meta, 'k')).rejects.toBeInstanceOf(StoreClosedError);
        await expect(store.put(StoreTable.Meta, 'k', 2)).rejects.toBeInstanceOf(StoreClosedError);
        await expect(store.delete(StoreTable.Meta, 'k')).rejects.toBeInstanceOf(StoreClosedError);
        await expect(store.list(StoreTable.Meta)).rejects.toBeInstanceOf(StoreClosedError);
        await expect(store.wipe()).rejects.toBeInstanceOf(StoreClosedError);
      }
    });

    it('[STORE-3] get of a missing key is undefined; delete removes; deleting a missing key is fine', async () => {
      const store = await fresh();
      expect(await store.get(StoreTable.Seen, 'missing')).toBeUndefined();
      await store.put(StoreTable.Seen, 'present', true);
      await store.delete(StoreTable.Seen, 'present');
      await store.delete(StoreTable.Seen, 'present');
      await store.delete(StoreTable.Seen, 'never');
      expect(await store.get(StoreTable.Seen, 'present')).toBeUndefined();
      expect(await store.list(StoreTable.Seen)).toEqual([]);
    });

    it('[STORE-3] list returns entries in ascending UTF-16 key order, filtered by prefix', async () => {
      const store = await fresh();
      const keys = [
        'chat1/0002/b',
        'chat1/0001/a',
        'chat10/0001/x',
        'chat1/',
        'chat1',
        'chat2/0001/y',
        '',
        'Z',
        '__proto__',
        'constructor',
        'a\uffffz',
        'a\uffff',
        'a',
        'b',
        '😀',
        '\uffff',
        '\uffff\uffff',
      ];
      for (const key of keys) await store.put(StoreTable.Messages, key, { key });
      // Default sort compares UTF-16 code units, the order IndexedDB defines for string keys.
      const sorted = [...keys].sort();
      const listed = async (prefix?: string): Promise<string[]> =>
        (await store.list<{ key: string }>(StoreTable.Messages, prefix)).map(([key, value]) => {
          expect(value.key).toBe(key);
          return key;
        });
      expect(await listed()).toEqual(sorted);
      expect(await listed('')).toEqual(sorted);
      expect(await listed('chat1')).toEqual(['chat1', 'chat1/', 'chat1/0001/a', 'chat1/0002/b', 'chat10/0001/x']);
      expect(await listed('chat1/')).toEqual(['chat1/', 'chat1/0001/a', 'chat1/0002/b']);
      expect(await listed('a')).toEqual(['a', 'a\uffff', 'a\uffffz']);
      expect(await listed('a\uffff')).toEqual(['a\uffff', 'a\uffffz']);
      expect(await listed('\uffff')).toEqual(['\uffff', '\uffff\uffff']);
      expect(await listed('__proto__')).toEqual(['__proto__']);
      expect(await listed('chat3')).toEqual([]);
    });

    it('[STORE-3] "__proto__", "constructor" and the empty string are ordinary keys', async () => {
      const store = await fresh();
      for (const key of ['__proto__', 'constructor', 'toString', '']) {
        expect(await store.get(StoreTable.Contacts, key), key).toBeUndefined();
        await store.put(StoreTable.Contacts, key, { polluted: key });
        expect(await store.get(StoreTable.Contacts, key), key).toEqual({ polluted: key });
      }
      expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
      await store.delete(StoreTable.Contacts, '__proto__');
      expect(await store.get(StoreTable.Contacts, '__proto__')).toBeUndefined();
      expect((await store.list(StoreTable.Contacts)).map(([key]) => key)).toEqual(['', 'constructor', 'toString']);
    });

    it('[STORE-3] tables are independent', async () => {
      const store = await fresh();
      for (const table of STORE_TABLES) await store.put(table, 'shared', table);
      await store.delete(StoreTable.Sessions, 'shared');
      for (const table of STORE_TABLES) {
        const expected = table === StoreTable.Sessions ? undefined : table;
        expect(await store.get(table, 'shared'), table).toBe(expected);
        expect(await store.list(table), table).toEqual(expected === undefined ? [] : [['shared', table]]);
      }
    });

    it('[STORE-4] refuses other kinds of value with a TypeError naming the key, keeping the old value', async () => {
      const store = await fresh();
      await store.put(StoreTable.Meta, 'bad-key', 'old');
      const cyclic: Record<string, unknown> = { a: 1 };
      cyclic.self = cyclic;
      class Point {
        constructor(readonly x: number) {}
      }
      const refused: [string, unknown][] = [
        ['function', () => 1],
        ['Map', new Map([[1, 2]])],
        ['Set', new Set([1])],
        ['Date', new Date(0)],
        ['undefined', undefined],
        ['nested undefined', { a: undefined }],
        ['NaN', Number.NaN],
        ['Infinity', { deep: [Number.POSITIVE_INFINITY] }],
        ['bigint', 1n],
        ['symbol', Symbol('s')],
        ['Int16Array', new Int16Array(2)],
        ['ArrayBuffer', new ArrayBuffer(2)],
        ['class instance', new Point(1)],
        ['nested function', { inner: { method: () => 1 } }],
        // eslint-disable-next-line no-sparse-arrays -- the point of the case
        ['sparse array', [1, , 3]],
        ['cycle', cyclic],
      ];
      for (const [label, value] of refused) {
        const error = await store.put(StoreTable.Meta, 'bad-key', value).then(
          () => null,
          (reason: unknown) => reason,
        );
        expect(error, label).toBeInstanceOf(TypeError);
        expect((error as Error).message, label).toContain('"bad-key"');
      }
      expect(await store.get(StoreTable.Meta, 'bad-key')).toBe('old');
    });

    it('[STORE-4] refuses misuse with a TypeError naming the argument', async () => {
      const store = await fresh();
      const anyStore = store as unknown as {
        get(table: unknown, key: unknown): Promise<unknown>;
        put(table: unknown, key: unknown, value: unknown): Promise<void>;
        list(table: unknown, prefix?: unknown): Promise<unknown>;
      };
      await expect(anyStore.get('nope', 'k')).rejects.toThrow(/table/);
      await expect(anyStore.put('__proto__', 'k', 1)).rejects.toThrow(TypeError);
      await expect(anyStore.get(StoreTable.Meta, 1)).rejects.toThrow(/key/);
      await expect(anyStore.put(StoreTable.Meta, null, 1)).rejects.toThrow(TypeError);
      await expect(anyStore.list(StoreTable.Meta, 7)).rejects.toThrow(/prefix/);
    });

    it('[STORE-4] without needsExtractableKeys, a non-extractable CryptoKey stays so', async (context) => {
      const store = await fresh();
      if (store.needsExtractableKeys) context.skip();
      const secret = await aesKey(false);
      const signing = await ed25519Pair(false);
      await store.put(StoreTable.Sessions, 'peer/1', { secret, privateKey: signing.privateKey });
      const check = async (from: ClientStore): Promise<void> => {
        const got = await from.get<{ secret: TestKey; privateKey: TestKey }>(StoreTable.Sessions, 'peer/1');
        expect(got!.secret.extractable).toBe(false);
        await expect(subtle.exportKey('raw', got!.secret)).rejects.toThrow();
        await expectSameAesKey(got!.secret, secret);
        await expectSameSigningKey(got!.privateKey, signing);
      };
      await check(store);
      if (options.persistent) {
        await store.close();
        await check(await openStore());
      }
    });

    it('[STORE-4] with needsExtractableKeys, a non-extractable CryptoKey is a TypeError saying so', async (context) => {
      const store = await fresh();
      if (!store.needsExtractableKeys) context.skip();
      await store.put(StoreTable.Identity, 'self', 'old');
      const signing = await ed25519Pair(false);
      await expect(store.put(StoreTable.Identity, 'self', { privateKey: signing.privateKey })).rejects.toThrow(
        TypeError,
      );
      await expect(store.put(StoreTable.Identity, 'self', { privateKey: signing.privateKey })).rejects.toThrow(
        /needs extractable keys.*"self"/,
      );
      expect(await store.get(StoreTable.Identity, 'self')).toBe('old');
    });
  });
}
