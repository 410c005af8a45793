/**
 * Entry chunks: one entry is one slab chunk holding its recency links, a small
 * header, the key and the value together, so that a lookup that finds the
 * key's index slot touches exactly one more place in memory, and a recency
 * update touches only the entry and its two neighbours.
 *
 * A chunk starts at a multiple of 4 bytes and is named by its "ref" = arena
 * byte offset / 4, so word k of the chunk is `arenaU32[ref + k]`.
 *
 * CHUNK LAYOUT (little-endian)
 *   live entry, compact header (12 bytes), for keys ≤ 255 and values ≤ 65,534 bytes:
 *    0  u32  prev      ref of the neighbour toward the list's head (more
 *                      recent), NIL at the head (recencyList.ts)
 *    4  u32  next      ref of the neighbour toward the tail, NIL at the tail
 *    8  u8   flags     F_* below
 *    9  u8   keyLen
 *   10  u16  valueLen  WIDE_MARK (0xffff) means: the wide header follows
 *   wide header, 8 more bytes (byte 9 is then unused):
 *   12  u32  valueLen
 *   16  u32  keyLen
 *   then, in this order, each only where present:
 *        u32 lo, u32 hi   expiresAt, ms since the Unix epoch   (F_EXPIRES)
 *        u32 lo, u32 hi   version                              (caches with `versions`)
 *        key bytes, then value bytes
 *        u8 metaLength, meta bytes                             (F_META)
 *   the rest of the chunk, up to its size class, is slack.
 *
 *   free chunk: flags = 0 (no F_LIVE); word 1 links the next free chunk of
 *   its page (NIL at the end). Word 0 is unused.
 *
 * What costs something only when used costs nothing otherwise: an entry
 * without a TTL has no expiry words, and the flags byte tells every reader
 * so from the header it reads anyway.
 */

import type { Views } from './layout.js';

export type ChunkRef = number & { readonly __brand: 'ChunkRef' };

/** The chunk holds a live entry. */
export const F_LIVE = 1;
/** The entry was read (get) at least once since it was set: memcached's ITEM_FETCHED. */
export const F_FETCHED = 2;
/** The value was set from a string of ASCII characters only: it decodes as Latin-1 (faster). */
export const F_ASCII = 4;
/** The entry has an expiry time (two words after the header). */
export const F_EXPIRES = 8;
/** The value was given as a string (get and iteration hand back a string; else a Buffer). */
export const F_TEXT = 16;
/** SIEVE's visited bit (sieve.ts); LRU ignores it. */
export const F_VISITED = 32;
/** The entry carries metadata bytes after its value. */
export const F_META = 64;
/** The key was given as bytes (Uint8Array), so iteration hands it back as bytes. */
export const F_BINARY_KEY = 128;

export const COMPACT_HEADER_BYTES = 12;
export const WIDE_HEADER_BYTES = 20;
export const SIZEOF_EXPIRY = 8;
export const SIZEOF_VERSION = 8;
export const MAX_COMPACT_KEY = 0xff;
export const MAX_COMPACT_VALUE = 0xfffe;
/** The compact valueLen that marks a wide header. */
const WIDE_MARK = 0xffff;
export const MAX_META_BYTES = 0xff;

/* word and byte positions inside a chunk */
const W_PREV = 0;
const W_NEXT = 1;
const B_FLAGS = 8;
/** Byte offset of the flags in a chunk (for the lock-free readers' Atomics.or). */
export const CHUNK_FLAGS_BYTE = B_FLAGS;
const B_KEY_LEN = 9;
/** u16 index of the compact valueLen: byte 10. */
const H_VALUE_LEN = 5;
const W_WIDE_VALUE_LEN = 3;
const W_WIDE_KEY_LEN = 4;

const TWO_32 = 0x1_0000_0000;

/** True when key and value lengths need the wide header. */
export function needsWide(keyLen: number, valueLen: number): boolean {
  return keyLen > MAX_COMPACT_KEY || valueLen > MAX_COMPACT_VALUE;
}

/** Bytes of header before the key, for these lengths and flags in a cache with `versionBytes`. */
export function headerBytes(wide: boolean, flags: number, versionBytes: number): number {
  return (wide ? WIDE_HEADER_BYTES : COMPACT_HEADER_BYTES) + ((flags & F_EXPIRES) !== 0 ? SIZEOF_EXPIRY : 0) + versionBytes;
}

/** Total bytes an entry takes in its chunk (what picks its size class); metaLen is -1 without metadata. */
export function entrySize(flags: number, versionBytes: number, keyLen: number, valueLen: number, metaLen: number): number {
  return headerBytes(needsWide(keyLen, valueLen), flags, versionBytes) + keyLen + valueLen + (metaLen >= 0 ? 1 + metaLen : 0);
}

/**
 * Reads and writes entry chunks of one cache. `versionBytes` is 8 in a cache
 * created with `versions`, else 0: a constant per cache, so every offset is a
 * few additions.
 */
export class Chunks {
  readonly #u32: Uint32Array;
  readonly #u16: Uint16Array;
  readonly #bytes: Buffer;
  readonly versionBytes: number;

  constructor(views: Views, versionBytes: number) {
    this.#u32 = views.arenaU32;
    this.#u16 = views.arenaU16;
    this.#bytes = views.arenaBytes;
    this.versionBytes = versionBytes;
  }

  flags(ref: number): number {
    return this.#bytes[ref * 4 + B_FLAGS]!;
  }

  setFlags(ref: number, flags: number): void {
    this.#bytes[ref * 4 + B_FLAGS] = flags;
  }

  prev(ref: number): number {
    return this.#u32[ref + W_PREV]!;
  }

  next(ref: number): number {
    return this.#u32[ref + W_NEXT]!;
  }

  setPrev(ref: number, to: number): void {
    this.#u32[ref + W_PREV] = to;
  }

  setNext(ref: number, to: number): void {
    this.#u32[ref + W_NEXT] = to;
  }

  isWide(ref: number): boolean {
    return this.#u16[ref * 2 + H_VALUE_LEN] === WIDE_MARK;
  }

  keyLen(ref: number): number {
    return this.#u16[ref * 2 + H_VALUE_LEN] !== WIDE_MARK ? this.#bytes[ref * 4 + B_KEY_LEN]! : this.#u32[ref + W_WIDE_KEY_LEN]!;
  }

  valueLen(ref: number): number {
    const compact = this.#u16[ref * 2 + H_VALUE_LEN]!;
    return compact !== WIDE_MARK ? compact : this.#u32[ref + W_WIDE_VALUE_LEN]!;
  }

  /** Arena byte offset of the key (the value follows it). */
  keyStart(ref: number): number {
    const wide = this.#u16[ref * 2 + H_VALUE_LEN] === WIDE_MARK;
    const flags = this.#bytes[ref * 4 + B_FLAGS]!;
    if (!wide && (flags & F_EXPIRES) === 0) return ref * 4 + COMPACT_HEADER_BYTES + this.versionBytes;
    return ref * 4 + headerBytes(wide, flags, this.versionBytes);
  }

  /** Arena byte offset of the value. */
  valueStart(ref: number): number {
    return this.keyStart(ref) + this.keyLen(ref);
  }

  /** Absolute expiry in ms since the epoch; only for chunks with F_EXPIRES. */
  expiresAt(ref: number): number {
    const at = ref + (this.#u16[ref * 2 + H_VALUE_LEN] !== WIDE_MARK ? 3 : 5);
    return this.#u32[at + 1]! * TWO_32 + this.#u32[at]!;
  }

  /** The entry's version; only in caches with `versions`. */
  version(ref: number): number {
    const at = (this.keyStart(ref) - this.versionBytes) / 4;
    return this.#u32[at + 1]! * TWO_32 + this.#u32[at]!;
  }

  /** Arena byte offset of the metadata length byte (the metadata follows it); only for chunks with F_META. */
  metaStart(ref: number): number {
    return this.keyStart(ref) + this.keyLen(ref) + this.valueLen(ref);
  }

  /** Length of the metadata of a chunk with F_META; -1 without. */
  metaLength(ref: number): number {
    if ((this.flags(ref) & F_META) === 0) return -1;
    return this.#bytes[this.metaStart(ref)]!;
  }

  /** Header + key + value (+ metadata) bytes of the live entry in this chunk. */
  entryBytes(ref: number): number {
    return entrySize(this.flags(ref), this.versionBytes, this.keyLen(ref), this.valueLen(ref), this.metaLength(ref));
  }

  /**
   * Writes a live entry's header (links untouched) and returns the arena byte
   * offset where its key goes. The header is wide when the lengths need it.
   */
  writeHeader(ref: number, flags: number, keyLen: number, valueLen: number, expiresAt: number, version: number): number {
    const u32 = this.#u32;
    const bytes = this.#bytes;
    bytes[ref * 4 + B_FLAGS] = flags;
    let word = ref + 3;
    if (!needsWide(keyLen, valueLen)) {
      bytes[ref * 4 + B_KEY_LEN] = keyLen;
      this.#u16[ref * 2 + H_VALUE_LEN] = valueLen;
    } else {
      this.#u16[ref * 2 + H_VALUE_LEN] = WIDE_MARK;
      u32[ref + W_WIDE_VALUE_LEN] = valueLen;
      u32[ref + W_WIDE_KEY_LEN] = keyLen;
      word = ref + 5;
    }
    if ((flags & F_EXPIRES) !== 0) {
      u32[word] = expiresAt % TWO_32;
      u32[word + 1] = Math.floor(expiresAt / TWO_32);
      word += 2;
    }
    if (this.versionBytes !== 0) {
      u32[word] = version % TWO_32;
      u32[word + 1] = Math.floor(version / TWO_32);
      word += 2;
    }
    return word * 4;
  }

  /** Turns a chunk into a free one linked to `nextFree`. */
  markFree(ref: number, nextFree: number): void {
    this.#bytes[ref * 4 + B_FLAGS] = 0;
    this.#u32[ref + W_NEXT] = nextFree;
  }

  /** The next free chunk after `ref` on its page's free list, or NIL. */
  nextFree(ref: number): number {
    return this.#u32[ref + W_NEXT]!;
  }

  isLive(ref: number): boolean {
    return (this.#bytes[ref * 4 + B_FLAGS]! & F_LIVE) !== 0;
  }
}

