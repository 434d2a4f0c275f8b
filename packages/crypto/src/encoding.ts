/**
 * A canonical binary encoding for everything that is signed, bound into associated data or
 * sent between peers by the cryptographic core.
 *
 * Each value is written with its length, so two different field lists can never encode to the
 * same bytes (no ambiguity between "ab"+"c" and "a"+"bc"), and a reader refuses trailing bytes.
 * Integers are big-endian. This is internal to the package: the wire protocol that carries
 * these bytes is Protocol Buffers, but signatures are made over these exact bytes.
 * @module
 */
import { MalformedInputError } from './errors.js';
import { fromUtf8, utf8 } from './bytes.js';

/** Largest length accepted for one byte field when reading, a guard against absurd inputs. */
const MAX_FIELD_BYTES = 1 << 20;

/** Appends canonical fields to a growing buffer. */
export class ByteWriter {
  private chunks: Uint8Array[] = [];
  private length = 0;

  /** One unsigned byte. */
  u8(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new RangeError('u8 out of range');
    return this.push(Uint8Array.of(value));
  }

  /** An unsigned 32-bit integer. */
  u32(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw new RangeError('u32 out of range');
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, value);
    return this.push(out);
  }

  /** A non-negative integer up to 2^53 - 1 as 8 bytes (timestamps in ms, versions). */
  u64(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError('u64 out of range');
    const out = new Uint8Array(8);
    const view = new DataView(out.buffer);
    view.setUint32(0, Math.floor(value / 2 ** 32));
    view.setUint32(4, value % 2 ** 32);
    return this.push(out);
  }

  /** Bytes of a fixed, known length (no prefix: the reader knows the length). */
  fixed(bytes: Uint8Array, length: number): this {
    if (bytes.length !== length) throw new RangeError(`expected ${length} bytes, got ${bytes.length}`);
    return this.push(bytes.slice());
  }

  /** Bytes of any length, prefixed with a u32 length. */
  bytes(bytes: Uint8Array): this {
    this.u32(bytes.length);
    return this.push(bytes.slice());
  }

  /** A UTF-8 string, prefixed with its byte length. */
  string(text: string): this {
    return this.bytes(utf8(text));
  }

  /** The bytes written so far. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  private push(bytes: Uint8Array): this {
    this.chunks.push(bytes);
    this.length += bytes.length;
    return this;
  }
}

/** Reads canonical fields; every read that runs past the end throws `MalformedInputError`. */
export class ByteReader {
  private offset = 0;
  private readonly view: DataView;

  constructor(private readonly input: Uint8Array) {
    this.view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.offset++);
  }

  u32(): number {
    this.need(4);
    const value = this.view.getUint32(this.offset);
    this.offset += 4;
    return value;
  }

  u64(): number {
    this.need(8);
    const value = this.view.getUint32(this.offset) * 2 ** 32 + this.view.getUint32(this.offset + 4);
    this.offset += 8;
    if (!Number.isSafeInteger(value)) throw new MalformedInputError('integer exceeds 2^53 - 1');
    return value;
  }

  fixed(length: number): Uint8Array {
    this.need(length);
    const out = this.input.slice(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  bytes(maxLength = MAX_FIELD_BYTES): Uint8Array {
    const length = this.u32();
    if (length > maxLength) throw new MalformedInputError(`field of ${length} bytes exceeds ${maxLength}`);
    return this.fixed(length);
  }

  string(maxLength = 1024): string {
    try {
      return fromUtf8(this.bytes(maxLength));
    } catch (error) {
      if (error instanceof MalformedInputError) throw error;
      throw new MalformedInputError('string is not valid UTF-8', { cause: error });
    }
  }

  /** The bytes not read yet. */
  rest(): Uint8Array {
    const out = this.input.slice(this.offset);
    this.offset = this.input.length;
    return out;
  }

  /** Refuses trailing bytes: a canonical encoding has exactly one form. */
  end(): void {
    if (this.offset !== this.input.length) {
      throw new MalformedInputError(`${this.input.length - this.offset} unexpected trailing bytes`);
    }
  }

  private need(length: number): void {
    if (this.offset + length > this.input.length) throw new MalformedInputError('input is truncated');
  }
}
