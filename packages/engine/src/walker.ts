/**
 * The snapshot walk: visits every entry, from the tail of the recency list to
 * its head (LRU: least to most recent), over many short steps while the cache
 * keeps serving between them, and hands a sink exactly the cache's state at
 * the moment the walk reaches the head.
 *
 * The cursor is the walk sentinel, a list node of its own (recencyList.ts):
 * each step hops it over the entries it writes, so entries moving or leaving
 * around it never invalidate it. An entry that changes after the cursor
 * passed it either moves ahead of the cursor (an LRU hit or set: it is
 * written again later) or leaves a note in the walk log (walkLog.ts), which
 * the next step turns into a record before any new entry: a tombstone, an
 * update of an entry that did not move (SIEVE), or a clear. Records, read in
 * order with the last word for each key winning, therefore describe the
 * cache as it was when the final step ran, including the SIEVE hand and the
 * version counter, which the final step reports.
 *
 * Every method runs under the cache lock (cache.ts calls them).
 */

import { F_ASCII, F_BINARY_KEY, F_EXPIRES, F_META, F_TEXT, F_VISITED, type Chunks } from './chunk.js';
import { hashBytes } from './hash.js';
import type { HashIndex } from './hashIndex.js';
import { G_VERSION, META_HAND, META_WALK_ACTIVE, NIL, SENTINEL_REF, type Views } from './layout.js';
import type { RecencyList } from './recencyList.js';
import type { WalkLog } from './walkLog.js';

/** One entry as the walk hands it over: ranges of the arena. One object, reused for every entry. */
export interface WalkEntry {
  keyStart: number;
  keyLength: number;
  valueStart: number;
  valueLength: number;
  /** Absolute expiry in ms since the epoch; 0 = none. */
  expiresAt: number;
  /** 0 in a cache without versions. */
  version: number;
  /** Start of the metadata bytes, or -1 without metadata. */
  metaStart: number;
  metaLength: number;
  /** The key was set as bytes. */
  binaryKey: boolean;
  /** The value was set as a string. */
  text: boolean;
  /** ... a string of ASCII characters only. */
  ascii: boolean;
  /** SIEVE's visited bit. */
  visited: boolean;
}

export interface WalkSink {
  /**
   * An entry's whole state. `update` is true when it restates an entry that
   * changed without moving (its place in the order is that of its earlier
   * record, if the walk had written one).
   */
  entry(arena: Buffer, entry: WalkEntry, update: boolean): void;
  /** The entry with this key left the cache. */
  tombstone(bytes: Buffer, keyStart: number, keyLength: number): void;
  /** Every entry left the cache. */
  clear(): void;
  /**
   * The walk reached the head: the records so far are the snapshot. `hand` is
   * the key of the entry SIEVE's hand points at (undefined: none, or LRU).
   */
  finish(arena: Buffer, hand: { keyStart: number; keyLength: number } | undefined, lastVersion: number, items: number): void;
}

/** Thrown by `step` when more changed between two steps than the walk log holds. */
export class WalkOverflowError extends Error {
  override readonly name = 'WalkOverflowError';
}

export interface WalkerParts {
  readonly views: Views;
  readonly list: RecencyList;
  readonly chunks: Chunks;
  readonly index: HashIndex;
  readonly log: WalkLog;
  readonly seed: number;
  readonly items: () => number;
  /** Removes an expired entry the walk came across (the cache's own reclaim, with its counting). */
  readonly reclaim: (ref: number) => void;
}

export class Walker {
  readonly #p: WalkerParts;
  readonly #entry: WalkEntry = {
    keyStart: 0,
    keyLength: 0,
    valueStart: 0,
    valueLength: 0,
    expiresAt: 0,
    version: 0,
    metaStart: -1,
    metaLength: 0,
    binaryKey: false,
    text: false,
    ascii: false,
    visited: false,
  };

  constructor(parts: WalkerParts) {
    this.#p = parts;
  }

  get active(): boolean {
    return this.#p.views.metaU32[META_WALK_ACTIVE] !== 0;
  }

  /** Links the cursor at the tail. Throws if a walk is already running on this cache. */
  begin(): void {
    if (this.active) throw new Error('a snapshot walk is already running on this cache');
    this.#p.log.reset();
    this.#p.list.pushTail(SENTINEL_REF);
    this.#p.views.metaU32[META_WALK_ACTIVE] = 1;
  }

  /** After a clear emptied the list: the walk goes on over what is set from now. */
  relinkAfterClear(): void {
    this.#p.list.pushTail(SENTINEL_REF);
  }

  /**
   * Hands the sink the notes taken since the last step, then up to `max` more
   * entries; returns false once it has reached the head (after `finish`).
   * Throws WalkOverflowError if notes were lost.
   */
  step(max: number, sink: WalkSink): boolean {
    if (!this.active) return false;
    const { list, chunks, log, views } = this.#p;
    if (log.overflowed) throw new WalkOverflowError('more changed between two steps of the walk than its log holds');
    const arena = views.arenaBytes;
    log.drain({
      tombstone: (bytes, start, length) => sink.tombstone(bytes, start, length),
      clear: () => sink.clear(),
      touched: (bytes, start, length) => {
        const ref = this.#find(bytes, start, length);
        // Gone since: its tombstone follows in the log.
        if (ref !== NIL) sink.entry(arena, this.#describe(ref), true);
      },
    });
    const now = Date.now();
    let ref = list.towardHead(SENTINEL_REF);
    let last = NIL;
    for (let n = 0; n < max && ref !== NIL; n++) {
      const entry = this.#describe(ref);
      const next = list.towardHead(ref);
      if (entry.expiresAt !== 0 && entry.expiresAt <= now) {
        // Expired but not yet reclaimed: not part of the state; reclaimed now, so the count at the end is of live entries.
        this.#p.reclaim(ref);
      } else {
        sink.entry(arena, entry, false);
        last = ref;
      }
      ref = next;
    }
    // One hop of the cursor over everything this step wrote.
    if (last !== NIL) list.moveBefore(SENTINEL_REF, last);
    if (ref !== NIL) return true;
    const hand = views.metaU32[META_HAND]!;
    sink.finish(
      arena,
      hand === NIL ? undefined : { keyStart: chunks.keyStart(hand), keyLength: chunks.keyLen(hand) },
      views.global[G_VERSION]!,
      this.#p.items(),
    );
    return false;
  }

  /** Takes the cursor out of the list. */
  end(): void {
    if (!this.active) return;
    this.#p.list.unlink(SENTINEL_REF);
    this.#p.views.metaU32[META_WALK_ACTIVE] = 0;
  }

  #describe(ref: number): WalkEntry {
    const chunks = this.#p.chunks;
    const e = this.#entry;
    const flags = chunks.flags(ref);
    e.keyStart = chunks.keyStart(ref);
    e.keyLength = chunks.keyLen(ref);
    e.valueStart = e.keyStart + e.keyLength;
    e.valueLength = chunks.valueLen(ref);
    e.expiresAt = (flags & F_EXPIRES) !== 0 ? chunks.expiresAt(ref) : 0;
    e.version = chunks.versionBytes !== 0 ? chunks.version(ref) : 0;
    if ((flags & F_META) !== 0) {
      const at = e.valueStart + e.valueLength;
      e.metaStart = at + 1;
      e.metaLength = this.#p.views.arenaBytes[at]!;
    } else {
      e.metaStart = -1;
      e.metaLength = 0;
    }
    e.binaryKey = (flags & F_BINARY_KEY) !== 0;
    e.text = (flags & F_TEXT) !== 0;
    e.ascii = (flags & F_ASCII) !== 0;
    e.visited = (flags & F_VISITED) !== 0;
    return e;
  }

  /** The live entry whose key is `bytes[start, start + length)`, or NIL. */
  #find(bytes: Uint8Array, start: number, length: number): number {
    const { index, chunks, seed, views } = this.#p;
    const arena = views.arenaBytes;
    const hash = hashBytes(bytes, start, length, seed);
    for (let slot = index.home(hash), distance = 0; ; slot = index.next(slot), distance++) {
      const ref = index.refAt(slot);
      if (ref === 0) return NIL;
      if (index.hashAt(slot) === hash && chunks.keyLen(ref) === length) {
        const at = chunks.keyStart(ref);
        let same = true;
        for (let i = 0; i < length && same; i++) same = arena[at + i] === bytes[start + i];
        if (same) return ref;
      } else if (index.hashAt(slot) !== hash && index.displacement(slot) < distance) {
        return NIL;
      }
    }
  }
}
