/**
 * Key and value input: checks types and limits, hashes keys, and compares or
 * writes them against the arena, without allocating per operation.
 *
 * Keys are bytes: a string key is its UTF-8 encoding (a lone surrogate becomes
 * U+FFFD, as in TextEncoder), so a string and its UTF-8 bytes are one key.
 * Most keys are ASCII strings, and for those the string itself is hashed,
 * compared and copied character by character: no encoding pass, no scratch
 * copy. Other strings are encoded once into a scratch buffer; byte keys are
 * used as they are. A key's limit is checked on its byte length; since every
 * UTF-16 unit takes at least one byte, a string longer than the limit is
 * refused before it is looked at.
 */

import { CacheLimitError, describeType } from './errors.js';
import { hashAscii, hashBytes } from './hash.js';
import type { ArenaBuffer } from './layout.js';

export type Key = string | Uint8Array;
export type Value = string | Uint8Array;

const byteLength = Buffer.byteLength;

/** Keys up to this long are copied into the arena with a loop; longer ones natively. */
const SHORT_KEY = 24;

/** The key of the operation in progress. One per cache instance, reused by every call. */
export class KeyInput {
  /** The key when it is an ASCII string (compared and copied as characters), else null. */
  text: string | null = null;
  /** The key's bytes when it is not an ASCII string: the caller's array or `#scratch`. */
  bytes: Uint8Array;
  /** Byte length of the current key. */
  length = 0;
  /** Its hash (MurmurHash3 with the cache's seed). */
  hash = 0;
  /** True when the caller gave bytes rather than a string. */
  binary = false;
  /** Holds a non-ASCII string key's UTF-8 bytes: 3 bytes per UTF-16 unit is the worst case. */
  readonly #scratch: Buffer;
  readonly #maxKeyBytes: number;
  readonly #seed: number;

  constructor(maxKeyBytes: number, seed: number) {
    this.#maxKeyBytes = maxKeyBytes;
    this.#seed = seed;
    this.#scratch = Buffer.alloc(maxKeyBytes * 3 + 4);
    this.bytes = this.#scratch;
  }

  /**
   * Makes `key` the current key. Returns its byte length, or -1 when it is over
   * maxKeyBytes (such a key can never have been stored). TypeError for a key
   * of the wrong type.
   */
  prepare(key: Key): number {
    const max = this.#maxKeyBytes;
    if (typeof key === 'string') {
      if (key.length > max) return -1;
      this.binary = false;
      const hash = hashAscii(key, this.#seed);
      if (hash >= 0) {
        this.text = key;
        this.length = key.length;
        this.hash = hash;
        return key.length;
      }
      const length = this.#scratch.write(key, 0, 'utf8');
      if (length > max) return -1;
      return this.#useBytes(this.#scratch, length);
    }
    if (key instanceof Uint8Array) {
      if (key.byteLength > max) return -1;
      this.binary = true;
      return this.#useBytes(key, key.byteLength);
    }
    throw new TypeError(`key must be a string or a Uint8Array, got ${describeType(key)}`);
  }

  /** Like `prepare`, but a key over the limit throws CacheLimitError (for `set`). */
  prepareForWrite(key: Key): number {
    const length = this.prepare(key);
    if (length < 0) {
      const actual = typeof key === 'string' ? Buffer.byteLength(key, 'utf8') : (key as Uint8Array).byteLength;
      throw new CacheLimitError('maxKeyBytes', this.#maxKeyBytes, actual);
    }
    return length;
  }

  #useBytes(bytes: Uint8Array, length: number): number {
    this.text = null;
    this.bytes = bytes;
    this.length = length;
    this.hash = hashBytes(bytes, 0, length, this.#seed);
    return length;
  }

  /** True when the `length` bytes at `start` are the current key (the caller checked the length). */
  equalsAt(arena: Uint8Array, start: number): boolean {
    const length = this.length;
    const text = this.text;
    if (text !== null) {
      for (let i = 0; i < length; i++) if (arena[start + i] !== text.charCodeAt(i)) return false;
      return true;
    }
    const bytes = this.bytes;
    for (let i = 0; i < length; i++) if (arena[start + i] !== bytes[i]) return false;
    return true;
  }

  /** Copies the current key's bytes to `start`. */
  writeAt(arena: ArenaBuffer, start: number): void {
    const length = this.length;
    const text = this.text;
    if (text !== null) {
      if (length <= SHORT_KEY) for (let i = 0; i < length; i++) arena[start + i] = text.charCodeAt(i);
      else arena.latin1Write(text, start, length);
      return;
    }
    const bytes = this.bytes;
    if (length <= SHORT_KEY) for (let i = 0; i < length; i++) arena[start + i] = bytes[i]!;
    else arena.set(bytes.subarray(0, length), start);
  }
}

/** Bytes `value` takes in the slab. Throws TypeError for anything but a string or Uint8Array. */
export function valueByteLength(value: Value): number {
  if (typeof value === 'string') return byteLength(value, 'utf8');
  if (value instanceof Uint8Array) return value.byteLength;
  throw new TypeError(`value must be a string or a Uint8Array, got ${describeType(value)}`);
}
