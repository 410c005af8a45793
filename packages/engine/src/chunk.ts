/**
 * Slab chunks: where one entry's key and value bytes live in the arena.
 *
 * A chunk starts at a multiple of 8 bytes, so it is named by a u32 "chunk ref"
 * = byte offset / 8 (an arena of up to 32 GiB fits). Layout, little-endian:
 *
 *   live chunk                          free chunk
 *   0  u32  valueLen  value bytes       0  u32  nextFree  chunk ref or NIL
 *   4  u16  keyLen    key bytes         4  u16  (unused)
 *   6  u16  flags     CHUNK_* below     6  u16  flags = 0
 *   8  …    key bytes, then value bytes; the rest of the chunk is slack
 *
 * Per-entry bookkeeping (LRU links, hash, expiry) is not here but in the
 * entry table (layout.ts): the chunk holds only what its size class needs.
 */

import type { Views } from './layout.js';

export type ChunkRef = number & { readonly __brand: 'ChunkRef' };

/** The chunk holds a live entry. */
export const CHUNK_LIVE = 1;
/** The entry was read (get) at least once since it was set: memcached's ITEM_FETCHED. */
export const CHUNK_FETCHED = 2;
/** The value was set from a string of ASCII characters only: it decodes as Latin-1 (faster). */
export const CHUNK_ASCII = 4;

export const CHUNK_HEADER_BYTES = 8;

export const chunkOffset = (ref: number): number => ref * 8;
export const keyOffset = (ref: number): number => ref * 8 + CHUNK_HEADER_BYTES;

export const chunkValueLen = (v: Views, ref: number): number => v.arenaU32[ref * 2];
export const chunkKeyLen = (v: Views, ref: number): number => v.arenaU16[ref * 4 + 2];
export const chunkFlags = (v: Views, ref: number): number => v.arenaU16[ref * 4 + 3];
export const setChunkFlags = (v: Views, ref: number, flags: number): void => {
  v.arenaU16[ref * 4 + 3] = flags;
};
/** Byte offset of the value: after the header and the key. */
export const valueOffset = (v: Views, ref: number): number => keyOffset(ref) + chunkKeyLen(v, ref);
/** Header + key + value bytes of the entry in this chunk. */
export const entryBytes = (v: Views, ref: number): number =>
  CHUNK_HEADER_BYTES + chunkKeyLen(v, ref) + chunkValueLen(v, ref);

export function writeChunkHeader(v: Views, ref: number, keyLen: number, valueLen: number, flags: number): void {
  v.arenaU32[ref * 2] = valueLen;
  v.arenaU16[ref * 4 + 2] = keyLen;
  v.arenaU16[ref * 4 + 3] = CHUNK_LIVE | flags;
}

/** Free-chunk link: reuses the valueLen word. */
export const freeChunkNext = (v: Views, ref: number): number => v.arenaU32[ref * 2];
export function markChunkFree(v: Views, ref: number, nextFree: number): void {
  v.arenaU32[ref * 2] = nextFree;
  v.arenaU16[ref * 4 + 3] = 0;
}

/** True when the key stored in chunk `ref` equals `key[0, keyLen)`. */
export function chunkKeyEquals(v: Views, ref: number, key: Uint8Array, keyLen: number): boolean {
  if (chunkKeyLen(v, ref) !== keyLen) return false;
  const bytes = v.arenaBytes;
  const start = keyOffset(ref);
  for (let i = 0; i < keyLen; i++) {
    if (bytes[start + i] !== key[i]) return false;
  }
  return true;
}
