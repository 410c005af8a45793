/**
 * Key hashing: MurmurHash3 (x86, 32-bit) over the key's bytes.
 *
 * Keys arrive from the network, so each cache draws a random seed when it is
 * created (and shares it with attached threads): a client cannot precompute a
 * set of keys that all land in one probe run of the index. The 32-bit result
 * feeds both the index's home slot (low bits) and its tag (high bits), so it is
 * finalised with fmix32 to spread entropy into every bit.
 */

// Module-level: a global lookup on every call costs far more inside a vm context (jest) than here.
const imul = Math.imul;
const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** MurmurHash3_x86_32 of `bytes[start, start + length)`. Returns an unsigned 32-bit integer. */
export function hashBytes(bytes: Uint8Array, start: number, length: number, seed: number): number {
  let h = seed | 0;
  const blockEnd = start + (length & ~3);
  let i = start;
  for (; i < blockEnd; i += 4) {
    let k =
      bytes[i] |
      (bytes[i + 1] << 8) |
      (bytes[i + 2] << 16) |
      (bytes[i + 3] << 24);
    k = imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = length & 3;
  if (tail !== 0) {
    let k = bytes[i];
    if (tail > 1) k |= bytes[i + 1] << 8;
    if (tail > 2) k |= bytes[i + 2] << 16;
    k = imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = imul(k, C2);
    h ^= k;
  }
  h ^= length;
  // fmix32: every input bit affects every output bit.
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * MurmurHash3_x86_32 of a string's characters taken as bytes, for the common
 * case of an ASCII key: equal to `hashBytes` over its UTF-8 encoding, without
 * encoding it first. Returns -1 as soon as a character is not ASCII (then the
 * caller encodes the key and uses `hashBytes`).
 */
export function hashAscii(key: string, seed: number): number {
  const length = key.length;
  let h = seed | 0;
  let ascii = 0;
  const blockEnd = length & ~3;
  let i = 0;
  for (; i < blockEnd; i += 4) {
    const c0 = key.charCodeAt(i);
    const c1 = key.charCodeAt(i + 1);
    const c2 = key.charCodeAt(i + 2);
    const c3 = key.charCodeAt(i + 3);
    ascii |= c0 | c1 | c2 | c3;
    let k = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
    k = imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = length & 3;
  if (tail !== 0) {
    let k = key.charCodeAt(i);
    ascii |= k;
    if (tail > 1) {
      const c = key.charCodeAt(i + 1);
      ascii |= c;
      k |= c << 8;
    }
    if (tail > 2) {
      const c = key.charCodeAt(i + 2);
      ascii |= c;
      k |= c << 16;
    }
    k = imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = imul(k, C2);
    h ^= k;
  }
  // One check for the whole key: any character ≥ 0x80 sets a bit above the seventh.
  if (ascii > 0x7f) return -1;
  h ^= length;
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A fresh random 32-bit seed. */
export function randomSeed(): number {
  return (Math.random() * 0x1_0000_0000) >>> 0;
}
