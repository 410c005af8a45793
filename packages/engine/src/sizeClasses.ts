/**
 * Slab size classes, memcached style: chunk sizes grow geometrically by
 * `growthFactor` from `SMALLEST_CHUNK` up to the page size, each a multiple of
 * 4 bytes (a chunk ref is its byte offset / 4) and at least 4 bytes apart, so
 * small entries, where a few bytes are a large share, waste at most 3 bytes to
 * rounding. An entry goes to the smallest class whose chunk holds it; the last
 * class is one chunk per page.
 *
 * Each geometric size is then widened to the largest chunk that still fits as
 * many times in a page (pageBytes / chunksPerPage, rounded down to 4 bytes):
 * the page holds the same number of chunks, but the bytes that would have
 * been left over at its end go to the chunks instead. For large chunks that
 * tail is most of the waste (a 40 KiB chunk leaves 24 KiB of a 1 MiB page);
 * sizes that widen to the same chunk become one class.
 *
 * The table is a pure function of the options, so each thread that attaches to
 * a cache recomputes it instead of sharing it.
 */

import type { ResolvedOptions } from './options.js';

export type ClassId = number & { readonly __brand: 'ClassId' };

export const SMALLEST_CHUNK = 16;
export const CHUNK_ALIGN = 4;
/** Class ids are stored in a u8 per page; 0xff marks a page that belongs to no class. */
export const MAX_CLASSES = 255;

export interface SizeClasses {
  /** chunkBytes[c]: bytes of one chunk of class c; ascending. */
  readonly chunkBytes: Uint32Array;
  /** chunksPerPage[c]: floor(pageBytes / chunkBytes[c]). */
  readonly chunksPerPage: Uint32Array;
  readonly count: number;
  readonly pageBytes: number;
  /** The class for an entry of `entryBytes` (header + key + value); `entryBytes` ≤ pageBytes. */
  classFor(entryBytes: number): ClassId;
}

export function buildSizeClasses(options: ResolvedOptions): SizeClasses {
  const { pageBytes, growthFactor } = options;
  const sizes: number[] = [];
  let size = SMALLEST_CHUNK;
  while (size < pageBytes / growthFactor && sizes.length < MAX_CLASSES - 1) {
    const widened = alignDown(pageBytes / Math.floor(pageBytes / size), CHUNK_ALIGN);
    if (widened !== sizes.at(-1)) sizes.push(widened);
    size = Math.max(widened + CHUNK_ALIGN, alignUp(size * growthFactor, CHUNK_ALIGN));
  }
  // The largest class is one whole page (pageBytes is a multiple of 4 KiB).
  if (sizes.at(-1) !== pageBytes) sizes.push(pageBytes);

  const chunkBytes = Uint32Array.from(sizes);
  const chunksPerPage = Uint32Array.from(sizes, (s) => Math.floor(pageBytes / s));
  // classBySlot[ceil(bytes / 4)] → class: one typed-array read per set, no search.
  const classBySlot = new Uint8Array(pageBytes / CHUNK_ALIGN + 1);
  let c = 0;
  for (let slot = 0; slot < classBySlot.length; slot++) {
    while (chunkBytes[c] < slot * CHUNK_ALIGN) c++;
    classBySlot[slot] = c;
  }
  return {
    chunkBytes,
    chunksPerPage,
    count: sizes.length,
    pageBytes,
    classFor: (entryBytes) => classBySlot[(entryBytes + CHUNK_ALIGN - 1) >>> 2] as ClassId,
  };
}

function alignUp(n: number, multiple: number): number {
  return Math.ceil(n / multiple) * multiple;
}

function alignDown(n: number, multiple: number): number {
  return Math.floor(n / multiple) * multiple;
}
