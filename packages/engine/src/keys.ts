/**
 * Key and value input: checks types and limits, and turns keys into UTF-8
 * bytes in a per-instance scratch buffer (no allocation per operation).
 *
 * Strings are encoded as UTF-8 (a lone surrogate becomes U+FFFD, as in
 * TextEncoder). Byte keys are copied as they are. A key's limit is checked on
 * its encoded length; since every UTF-16 unit takes at least one byte, a string
 * longer than the limit is refused before it is encoded at all.
 */

import { CacheLimitError, describeType } from './errors.js';

export type Key = string | Uint8Array;
export type Value = string | Uint8Array;

export class KeyEncoder {
  /** Holds the current key's bytes: 3 bytes per UTF-16 unit is the worst case. */
  readonly bytes: Buffer;
  readonly #maxKeyBytes: number;

  constructor(maxKeyBytes: number) {
    this.#maxKeyBytes = maxKeyBytes;
    this.bytes = Buffer.alloc(maxKeyBytes * 3 + 4);
  }

  /** Writes `key` into `bytes` and returns its length. Throws TypeError or CacheLimitError. */
  encode(key: Key): number {
    const length = this.encodeForLookup(key);
    if (length < 0) {
      const actual = typeof key === 'string' ? Buffer.byteLength(key, 'utf8') : (key as Uint8Array).byteLength;
      throw new CacheLimitError('maxKeyBytes', this.#maxKeyBytes, actual);
    }
    return length;
  }

  /** Like `encode`, but returns -1 for a key over the limit (such a key can never be stored). */
  encodeForLookup(key: Key): number {
    const max = this.#maxKeyBytes;
    const out = this.bytes;
    if (typeof key === 'string') {
      const units = key.length;
      if (units > max) return -1;
      // ASCII fast path: one byte per unit, no call into native code.
      for (let i = 0; i < units; i++) {
        const code = key.charCodeAt(i);
        if (code >= 0x80) {
          const length = out.write(key, 0, 'utf8');
          return length > max ? -1 : length;
        }
        out[i] = code;
      }
      return units;
    }
    if (key instanceof Uint8Array) {
      const length = key.byteLength;
      if (length > max) return -1;
      out.set(key, 0);
      return length;
    }
    throw new TypeError(`key must be a string or a Uint8Array, got ${describeType(key)}`);
  }
}

/** Bytes `value` takes in the slab. Throws TypeError for anything but a string or Uint8Array. */
export function valueByteLength(value: Value): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (value instanceof Uint8Array) return value.byteLength;
  throw new TypeError(`value must be a string or a Uint8Array, got ${describeType(value)}`);
}
