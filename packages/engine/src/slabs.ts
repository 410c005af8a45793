/**
 * Slab memory allocation, memcached style: the arena is cut into pages, a page
 * belongs to one size class at a time and is cut into that class's chunks.
 *
 * - A page is taken for a class only when the class has no free chunk, first
 *   from the released pages (already resident), then from the never-used ones.
 * - Chunks are carved from a page lazily (a per-page bump counter), so a new
 *   page costs nothing until its chunks are used: RSS follows the data.
 * - Freed chunks go to a per-page free list; a class keeps the pages that have
 *   room on its "partial" list, and allocates from the head of that list.
 * - Pages move between classes (no slab calcification): when a class holds a
 *   page's worth of free chunks, `releasePage` copies the live chunks of its
 *   emptiest page into free chunks elsewhere in the class and hands the empty
 *   page back to the pool, for any class.
 *
 * The allocator knows nothing of keys, the index or the LRU: when it moves a
 * chunk it reports the move through the `relocate` callback (the cache fixes
 * the entry's reference), and eviction is the cache's decision (cache.ts).
 */

import type { ChunkRef, Chunks } from './chunk.js';
import {
  FIRST_PAGE_REF,
  META_PAGE_BUMP,
  META_PAGE_FREE,
  META_RECLAIMABLE,
  NIL,
  NO_CLASS,
  STAT_CHUNKS_RELOCATED,
  STAT_SLABS_MOVED,
  type Geometry,
  type Views,
} from './layout.js';
import type { ClassId, SizeClasses } from './sizeClasses.js';

export type PageId = number & { readonly __brand: 'PageId' };

/** Called after a live chunk was copied from `from` to `to`. */
export type RelocateFn = (from: ChunkRef, to: ChunkRef) => void;

/**
 * Told before a page from the pool is cut into a class's chunks: a shared
 * SIEVE cache's readers may still be writing a bit into a chunk the page held
 * before (seqlock.ts), which must not land in the new class's bytes.
 */
export interface CarveGuard {
  waitForHintWriters(): void;
}

export class Slabs {
  readonly #v: Views;
  readonly #chunks: Chunks;
  readonly #classes: SizeClasses;
  readonly #maxPages: number;
  readonly #pageBytes: number;
  /** Chunk refs per page: pageBytes / 4. */
  readonly #refsPerPage: number;

  /** The event counters of the cache instance that owns this view (page moves are counted there). */
  readonly #counters: Float64Array;

  /** Set once the cache is read without the lock (cache.ts). */
  carveGuard: CarveGuard | null = null;

  constructor(views: Views, chunks: Chunks, classes: SizeClasses, geometry: Geometry, counters: Float64Array) {
    this.#v = views;
    this.#counters = counters;
    this.#chunks = chunks;
    this.#classes = classes;
    this.#maxPages = geometry.maxPages;
    this.#pageBytes = geometry.pageBytes;
    this.#refsPerPage = geometry.pageBytes / 4;
  }

  /** The page that holds chunk `ref`. */
  pageOf(ref: number): PageId {
    // A page number is far below 2^31: `| 0` is the floor.
    return (((ref - FIRST_PAGE_REF) / this.#refsPerPage) | 0) as PageId;
  }

  /** The ref of the first byte of `page`. */
  pageStart(page: number): number {
    return FIRST_PAGE_REF + page * this.#refsPerPage;
  }

  classOf(ref: number): ClassId {
    return this.#v.pageClass[this.pageOf(ref)] as ClassId;
  }

  /**
   * A free chunk of class `c`, or NIL when the class has none and no page is
   * left in the pool. Never evicts: the caller decides what to give up.
   */
  alloc(c: ClassId): ChunkRef {
    const v = this.#v;
    let page = v.classPartialHead[c];
    if (page === NIL) {
      page = this.#takePage(c);
      if (page === NIL) return NIL as ChunkRef;
    }
    let ref = v.pageFreeHead[page]!;
    if (ref !== NIL) {
      v.pageFreeHead[page] = this.#chunks.nextFree(ref);
    } else {
      // Carve the next never-used chunk of the page.
      const carved = v.pageCarved[page]!;
      ref = this.pageStart(page) + (carved * this.#classes.chunkBytes[c]!) / 4;
      v.pageCarved[page] = carved + 1;
    }
    const pageFree = v.pageFreeCount[page] - 1;
    v.pageFreeCount[page] = pageFree;
    if (pageFree === 0) this.#unlinkPartial(c, page);
    this.#addClassFree(c, -1);
    v.classLiveChunks[c]++;
    return ref as ChunkRef;
  }

  /** Returns chunk `ref` to its page's free list. */
  free(ref: ChunkRef): void {
    const v = this.#v;
    const page = this.pageOf(ref);
    const c = v.pageClass[page] as ClassId;
    this.#chunks.markFree(ref, v.pageFreeHead[page]!);
    v.pageFreeHead[page] = ref;
    const pageFree = v.pageFreeCount[page] + 1;
    v.pageFreeCount[page] = pageFree;
    if (pageFree === 1) this.#pushPartial(c, page);
    v.classLiveChunks[c]--;
    this.#addClassFree(c, 1);
  }

  /** True when some class holds a page's worth of free chunks (so `releasePage` can succeed). */
  hasReclaimable(): boolean {
    return this.#v.metaU32[META_RECLAIMABLE] > 0;
  }

  /** A class holding a page's worth of free chunks, or NIL. Slow path only: scans the classes. */
  reclaimableClass(): ClassId {
    const v = this.#v;
    for (let c = 0; c < this.#classes.count; c++) {
      if (v.classFreeChunks[c] >= this.#classes.chunksPerPage[c]) return c as ClassId;
    }
    return NIL as ClassId;
  }

  /**
   * Empties the page of class `c` with the fewest live chunks and returns it to
   * the pool. Precondition: the class holds at least a page's worth of free
   * chunks, so every live chunk of that page finds a free chunk on another page.
   */
  releasePage(c: ClassId, relocate: RelocateFn): void {
    const v = this.#v;
    const perPage = this.#classes.chunksPerPage[c];
    const chunkBytes = this.#classes.chunkBytes[c];
    const victim = this.#emptiestPage(c);
    // Take the victim off the partial list so alloc() cannot hand out its chunks.
    if (v.pageFreeCount[victim] > 0) this.#unlinkPartial(c, victim);
    const carved = v.pageCarved[victim];
    const base = this.pageStart(victim);
    for (let i = 0; i < carved; i++) {
      const from = base + (i * chunkBytes) / 4;
      if (!this.#chunks.isLive(from)) continue;
      const to = this.alloc(c);
      v.arenaBytes.copy(v.arenaBytes, to * 4, from * 4, from * 4 + chunkBytes);
      relocate(from as ChunkRef, to);
      v.classLiveChunks[c]--;
      this.#addClassFree(c, 1);
      this.#counters[STAT_CHUNKS_RELOCATED]++;
    }
    // Every chunk of the victim is now free: it leaves the class.
    this.#addClassFree(c, -perPage);
    v.classPages[c]--;
    v.pageClass[victim] = NO_CLASS;
    v.pageNext[victim] = v.metaU32[META_PAGE_FREE];
    v.metaU32[META_PAGE_FREE] = victim;
    this.#counters[STAT_SLABS_MOVED]++;
  }

  /** Pages handed out so far (never-used pages are not resident). */
  pagesTouched(): number {
    return this.#v.metaU32[META_PAGE_BUMP];
  }

  /** Pages owned by a class right now. */
  pagesInUse(): number {
    let pages = 0;
    for (let c = 0; c < this.#classes.count; c++) pages += this.#v.classPages[c];
    return pages;
  }

  get maxPages(): number {
    return this.#maxPages;
  }

  get pageBytes(): number {
    return this.#pageBytes;
  }

  /* ---- private ---- */

  /** Gives class `c` a page from the pool, or returns NIL when the pool is empty. */
  #takePage(c: ClassId): number {
    const v = this.#v;
    // Before anything below can hand out the page's bytes: a never-used page, too, may have held chunks before a clear().
    this.carveGuard?.waitForHintWriters();
    let page = v.metaU32[META_PAGE_FREE];
    if (page !== NIL) {
      v.metaU32[META_PAGE_FREE] = v.pageNext[page];
    } else {
      page = v.metaU32[META_PAGE_BUMP];
      if (page >= this.#maxPages) return NIL;
      v.metaU32[META_PAGE_BUMP] = page + 1;
    }
    const perPage = this.#classes.chunksPerPage[c];
    v.pageClass[page] = c;
    v.pageFreeHead[page] = NIL;
    v.pageFreeCount[page] = perPage;
    v.pageCarved[page] = 0;
    v.classPages[c]++;
    this.#addClassFree(c, perPage);
    this.#pushPartial(c, page);
    return page;
  }

  /** Adjusts a class's free-chunk count and the count of classes with a page's worth free. */
  #addClassFree(c: ClassId, delta: number): void {
    const v = this.#v;
    const perPage = this.#classes.chunksPerPage[c];
    const before = v.classFreeChunks[c];
    const after = before + delta;
    v.classFreeChunks[c] = after;
    if (before < perPage && after >= perPage) v.metaU32[META_RECLAIMABLE]++;
    else if (before >= perPage && after < perPage) v.metaU32[META_RECLAIMABLE]--;
  }

  #emptiestPage(c: ClassId): number {
    const v = this.#v;
    const touched = v.metaU32[META_PAGE_BUMP];
    let best = NIL;
    let bestFree = -1;
    for (let page = 0; page < touched; page++) {
      if (v.pageClass[page] === c && v.pageFreeCount[page] > bestFree) {
        best = page;
        bestFree = v.pageFreeCount[page];
      }
    }
    return best;
  }

  #pushPartial(c: ClassId, page: number): void {
    const v = this.#v;
    const head = v.classPartialHead[c];
    v.pagePrev[page] = NIL;
    v.pageNext[page] = head;
    if (head !== NIL) v.pagePrev[head] = page;
    v.classPartialHead[c] = page;
  }

  #unlinkPartial(c: ClassId, page: number): void {
    const v = this.#v;
    const prev = v.pagePrev[page];
    const next = v.pageNext[page];
    if (prev !== NIL) v.pageNext[prev] = next;
    else v.classPartialHead[c] = next;
    if (next !== NIL) v.pagePrev[next] = prev;
    v.pagePrev[page] = NIL;
    v.pageNext[page] = NIL;
  }
}
