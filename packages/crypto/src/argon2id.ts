/**
 * Argon2id (RFC 9106, version 0x13), the memory-hard password hash, through hash-wasm's
 * WebAssembly build.
 *
 * WebCrypto has no memory-hard password hash (PBKDF2 is its only one), so this is the one
 * primitive of the package that is not the platform's. hash-wasm is maintained, has no
 * dependencies, and ships its WebAssembly inlined (base64) in the JavaScript: nothing is fetched,
 * and the same code runs in Node 20 and in browsers. Compiling that WebAssembly in a page needs
 * `'wasm-unsafe-eval'` in the Content-Security-Policy's `script-src` (SPEC HEADERS-1).
 * `argon2id.test.ts` checks it against the reference implementation's vectors.
 *
 * The library's types are not re-exported: callers see only the narrow function below, which
 * checks its arguments and always returns raw bytes.
 * @module
 */
import { argon2id as hashWasmArgon2id } from 'hash-wasm';
import { assertBytes } from './errors.js';

/** The cost parameters of one Argon2id derivation. */
export interface Argon2idCost {
  /** Memory, in KiB (RFC 9106's m). At least 8 × `parallelism`. */
  readonly memoryKiB: number;
  /** Passes over the memory (RFC 9106's t). */
  readonly iterations: number;
  /** Lanes (RFC 9106's p). hash-wasm computes them one after another, on one thread. */
  readonly parallelism: number;
}

/** RFC 9106 section 3.1: the salt is at least 8 bytes (16 recommended). */
export const ARGON2ID_MIN_SALT_BYTES = 8;
/**
 * The most memory this accepts, in KiB (2 GiB): hash-wasm allocates it in one WebAssembly
 * memory, and a wasm32 memory cannot reach 4 GiB.
 */
export const ARGON2ID_MAX_MEMORY_KIB = 2 * 1024 * 1024;

function assertCost(cost: Argon2idCost): void {
  const { memoryKiB, iterations, parallelism } = cost;
  // RFC 9106 section 3.1: p in 1..2^24-1, t >= 1, m >= 8p; the output is at least 4 bytes.
  if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > 0xff_ff_ff) {
    throw new RangeError(`parallelism must be an integer from 1 to ${0xff_ff_ff}; got ${parallelism}`);
  }
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > 0xff_ff_ff_ff) {
    throw new RangeError(`iterations must be a positive 32-bit integer; got ${iterations}`);
  }
  if (!Number.isInteger(memoryKiB) || memoryKiB < 8 * parallelism || memoryKiB > ARGON2ID_MAX_MEMORY_KIB) {
    throw new RangeError(`memoryKiB must be an integer from 8 × parallelism to ${ARGON2ID_MAX_MEMORY_KIB}; got ${memoryKiB}`);
  }
}

/**
 * Argon2id of `password` and `salt` at `cost`: `length` bytes (32 unless asked). Without secret
 * or associated data. The caller owns the result and should wipe it once used.
 *
 * @example
 * ```ts
 * const raw = await argon2id(utf8('password'), salt, { memoryKiB: 65_536, iterations: 3, parallelism: 1 });
 * ```
 */
export async function argon2id(password: Uint8Array, salt: Uint8Array, cost: Argon2idCost, length = 32): Promise<Uint8Array> {
  assertBytes(password, 'password');
  if (password.length === 0) throw new RangeError('password must not be empty');
  assertBytes(salt, 'salt');
  if (salt.length < ARGON2ID_MIN_SALT_BYTES) throw new RangeError(`salt must be at least ${ARGON2ID_MIN_SALT_BYTES} bytes; got ${salt.length}`);
  if (!Number.isInteger(length) || length < 4 || length > 1024) throw new RangeError(`length must be 4..1024 bytes; got ${length}`);
  assertCost(cost);
  const out: unknown = await hashWasmArgon2id({
    password,
    salt,
    memorySize: cost.memoryKiB,
    iterations: cost.iterations,
    parallelism: cost.parallelism,
    hashLength: length,
    outputType: 'binary',
  });
  // The library's declared return type follows outputType; checked here all the same, since a
  // string (its hex default) would be a key that looks right and is not.
  if (!(out instanceof Uint8Array) || out.length !== length) throw new Error('hash-wasm returned something other than the bytes asked for');
  return out;
}
