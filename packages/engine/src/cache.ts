/**
 * SlabLruCache: the public cache, and the one place where the modules meet.
 *
 *   keys.ts       key/value checks, UTF-8 encoding into a scratch buffer
 *   hashIndex.ts  key hash → entry id (open addressing, backward-shift delete)
 *   entries.ts    entry ids; layout.ts holds the per-entry arrays
 *   lru.ts        recency order over the entry ids (exact LRU)
 *   slabs.ts      chunk memory in pages and size classes
 *
 * Linking an entry (`#link`) writes its chunk, then indexes it, then puts it at
 * the head of the LRU; unlinking (`#unlink`) undoes all three. Memory pressure
 * has one path, `#allocOrEvict`: take a free chunk; else move a page that
 * another class no longer needs; else evict the least recently used entry and
 * try again. Evictions therefore always follow exact LRU order, whatever the
 * size class of the entry that needs room.
 *
 * Every input is checked before anything changes: a call that throws leaves
 * the cache as it was.
 */

import {
  CHUNK_ASCII,
  CHUNK_FETCHED,
  CHUNK_HEADER_BYTES,
  chunkFlags,
  chunkKeyEquals,
  chunkKeyLen,
  chunkValueLen,
  entryBytes,
  keyOffset,
  setChunkFlags,
  writeChunkHeader,
  type ChunkRef,
} from './chunk.js';
import { CacheLimitError } from './errors.js';
import { EntryTable } from './entries.js';
import { hashBytes, randomSeed } from './hash.js';
import { HashIndex, NOT_FOUND, type EntryId } from './hashIndex.js';
import { KeyEncoder, valueByteLength, type Key, type Value } from './keys.js';
import {
  allocateHandle,
  checkMagic,
  createViews,
  geometryOf,
  META_HASH_SEED,
  META_ITEMS,
  META_SWEEP_CURSOR,
  META_TTL_IN_USE,
  META_WALK_ACTIVE,
  NIL,
  resetState,
  STAT_BYTES,
  STAT_CLEARS,
  STAT_CMD_HAS,
  STAT_CMD_PEEK,
  STAT_CMD_SET,
  STAT_DELETE_HITS,
  STAT_DELETE_MISSES,
  STAT_EVICTED_UNFETCHED,
  STAT_EVICTIONS_BYTES,
  STAT_EVICTIONS_KEYS,
  STAT_EXPIRED_UNFETCHED,
  STAT_GET_EXPIRED,
  STAT_GET_HITS,
  STAT_GET_MISSES,
  STAT_RECLAIMED,
  STAT_SET_REFUSED,
  STAT_TOTAL_ITEMS,
  type CacheHandle,
  type Geometry,
  type Views,
  ENTRY_WORDS,
  E_HASH,
  E_REF,
} from './layout.js';
import { CacheLock } from './lock.js';
import { LruList } from './lru.js';
import { resolveOptions, type CacheOptions, type ResolvedOptions } from './options.js';
import { buildSizeClasses, type ClassId, type SizeClasses } from './sizeClasses.js';
import { Slabs } from './slabs.js';
import { collectStats, type CacheStats } from './stats.js';

/** Receives one entry of a snapshot walk: its key and value as ranges of the arena. */
export type WalkVisitor = (
  arena: Buffer,
  keyStart: number,
  keyLength: number,
  valueStart: number,
  valueLength: number,
  expiresAt: number,
) => void;

export interface SetOptions {
  /** Time to live in ms for this entry; 0 = never expires. Default: the cache's `ttl` option. */
  ttl?: number;
}

/** Why an entry left the cache without being deleted. */
const enum Removal {
  Evicted = 0,
  Expired = 1,
}
const enum EvictionCause {
  Keys = 0,
  Bytes = 1,
}

/** Values up to this many bytes are copied out with a JS loop, longer ones natively. */
const SMALL_COPY_BYTES = 128;

/** Entries the TTL sweep examines on each `set` once TTLs are in use (Redis-style amortised expiry). */
const SWEEP_STEP = 4;

/** Internal request to build a cache over an existing handle (see `SlabLruCache.attach`). */
class AttachRequest {
  constructor(readonly handle: CacheHandle) {}
}

export class SlabLruCache {
  // options and layout that cannot change for the life of the cache
  readonly #options: ResolvedOptions;
  readonly #handle: CacheHandle;
  readonly #geometry: Geometry;
  readonly #v: Views;
  readonly #classes: SizeClasses;
  readonly #seed: number;

  // the modules, composed here only
  readonly #keys: KeyEncoder;
  readonly #index: HashIndex;
  readonly #entries: EntryTable;
  readonly #lru: LruList;
  readonly #slabs: Slabs;
  readonly #lock: CacheLock;
  /** True once the cache may be shared (its handle was taken, or it was attached): then every operation locks. */
  #locking: boolean;

  /** Length of the key currently in `#keys.bytes`; read by `#matchesKey`. */
  #keyLen = 0;
  /** Index predicate for the current key, created once (no closure per lookup). */
  readonly #matchesKey = (id: EntryId): boolean =>
    chunkKeyEquals(this.#v, this.#v.entry[id * ENTRY_WORDS + E_REF], this.#keys.bytes, this.#keyLen);

  /**
   * Creates an empty cache. All memory is reserved now and touched as it is used.
   * Throws TypeError naming the first bad option.
   */
  constructor(options: CacheOptions = {}) {
    const attach = (options as unknown) instanceof AttachRequest ? (options as unknown as AttachRequest) : undefined;
    if (attach) {
      this.#handle = attach.handle;
      this.#options = attach.handle.options;
    } else {
      this.#options = resolveOptions(options);
      this.#handle = allocateHandle(this.#options, randomSeed());
    }
    this.#geometry = geometryOf(this.#options);
    this.#v = createViews(this.#handle);
    checkMagic(this.#v);
    this.#classes = buildSizeClasses(this.#options);
    this.#seed = this.#v.metaU32[META_HASH_SEED];
    this.#keys = new KeyEncoder(this.#options.maxKeyBytes);
    this.#index = new HashIndex(this.#v, this.#geometry);
    this.#entries = new EntryTable(this.#v);
    this.#lru = new LruList(this.#v, this.#geometry.sentinel);
    this.#lock = new CacheLock(this.#v.metaI32, this.#options.lockTimeoutMs);
    this.#locking = attach !== undefined;
    this.#slabs = new Slabs(this.#v, this.#classes, this.#geometry);
  }

  /**
   * A view of the cache behind `handle` (from `cache.handle`, usually posted to
   * a worker thread). Both see and change the same entries.
   */
  static attach(handle: CacheHandle): SlabLruCache {
    return new SlabLruCache(new AttachRequest(handle) as unknown as CacheOptions);
  }

  /**
   * The shared buffers and options of this cache: structured-clonable, for
   * `postMessage`. Taking the handle switches this instance to locked
   * operation, since another thread may now attach.
   */
  get handle(): CacheHandle {
    this.#locking = true;
    return this.#handle;
  }

  /** The options in force, defaults applied. */
  get options(): ResolvedOptions {
    return this.#options;
  }

  /** Entries in the cache (expired entries not yet reclaimed included). */
  get size(): number {
    return this.#v.metaU32[META_ITEMS];
  }

  /** Same as options.maxKeys, in lru-cache's words. */
  get max(): number {
    return this.#options.maxKeys;
  }

  /**
   * Stores `value` under `key` and makes it the most recently used entry,
   * evicting least recently used entries if the cache is full.
   * Throws TypeError (wrong type, bad ttl) or CacheLimitError (over
   * maxKeyBytes/maxValueBytes); then nothing has changed.
   */
  set(key: Key, value: Value, options?: SetOptions): this {
    return this.#locking ? this.#locked(this.#set, key, value, options) : this.#set(key, value, options);
  }

  #set(key: Key, value: Value, options?: SetOptions): this {
    const v = this.#v;
    v.stats[STAT_CMD_SET]++;
    let keyLen: number;
    let valueLen: number;
    let ttl: number;
    try {
      keyLen = this.#keys.encode(key);
      valueLen = valueByteLength(value);
      if (valueLen > this.#options.maxValueBytes) {
        throw new CacheLimitError('maxValueBytes', this.#options.maxValueBytes, valueLen);
      }
      ttl = options?.ttl === undefined ? this.#options.ttl : checkTtl(options.ttl);
    } catch (error) {
      v.stats[STAT_SET_REFUSED]++;
      throw error;
    }
    this.#keyLen = keyLen;
    const hash = hashBytes(this.#keys.bytes, 0, keyLen, this.#seed);
    const size = CHUNK_HEADER_BYTES + keyLen + valueLen;
    const classId = this.#classes.classFor(size);
    if (ttl !== 0 || v.metaU32[META_TTL_IN_USE] !== 0) this.#sweepStep();

    const slot = this.#index.findSlot(hash, this.#matchesKey);
    if (slot !== NOT_FOUND) {
      const id = this.#index.idAt(slot);
      const ref = v.entry[id * ENTRY_WORDS + E_REF] as ChunkRef;
      if (this.#slabs.classOf(ref) === classId) {
        // Same size class: overwrite in place. The key, and so the value offset, is unchanged.
        const oldSize = entryBytes(v, ref);
        writeChunkHeader(v, ref, keyLen, valueLen, this.#writeValue(keyOffset(ref) + keyLen, value, valueLen));
        v.stats[STAT_BYTES] += size - oldSize;
        v.classRequestedBytes[classId] += size - oldSize;
        this.#setExpiry(id, ttl);
        this.#lru.moveToHead(id);
        v.stats[STAT_TOTAL_ITEMS]++;
        return this;
      }
      this.#unlink(id, slot);
    }

    if (this.size >= this.#options.maxKeys) this.#evictTail(EvictionCause.Keys);
    const ref = this.#allocOrEvict(classId);
    const id = this.#entries.alloc();
    this.#keys.bytes.copy(v.arenaBytes, keyOffset(ref), 0, keyLen);
    writeChunkHeader(v, ref, keyLen, valueLen, this.#writeValue(keyOffset(ref) + keyLen, value, valueLen));
    v.entry[id * ENTRY_WORDS + E_REF] = ref;
    v.entry[id * ENTRY_WORDS + E_HASH] = hash;
    this.#setExpiry(id, ttl);
    this.#index.insert(id, hash);
    this.#lru.pushHead(id);
    v.metaU32[META_ITEMS]++;
    v.stats[STAT_TOTAL_ITEMS]++;
    v.stats[STAT_BYTES] += size;
    v.classRequestedBytes[classId] += size;
    return this;
  }

  /** The value as a string (UTF-8 decoded), making the entry most recent; undefined if absent or expired. */
  get(key: Key): string | undefined {
    return this.#locking ? this.#locked(this.#get, key) : this.#get(key);
  }

  #get(key: Key): string | undefined {
    const id = this.#lookupForGet(key);
    return id === NIL ? undefined : this.#valueString(this.#v.entry[id * ENTRY_WORDS + E_REF]);
  }

  /** The value as a fresh Buffer (a copy, safe to keep), making the entry most recent; undefined if absent or expired. */
  getBytes(key: Key): Buffer | undefined {
    return this.#locking ? this.#locked(this.#getBytes, key) : this.#getBytes(key);
  }

  #getBytes(key: Key): Buffer | undefined {
    const id = this.#lookupForGet(key);
    if (id === NIL) return undefined;
    return this.#copyValue(this.#v.entry[id * ENTRY_WORDS + E_REF]);
  }

  /** Like `get`, without changing recency or the hit/miss counters. */
  peek(key: Key): string | undefined {
    return this.#locking ? this.#locked(this.#peek, key) : this.#peek(key);
  }

  #peek(key: Key): string | undefined {
    this.#v.stats[STAT_CMD_PEEK]++;
    const id = this.#lookupLive(key);
    return id === NIL ? undefined : this.#valueString(this.#v.entry[id * ENTRY_WORDS + E_REF]);
  }

  /** Like `getBytes`, without changing recency or the hit/miss counters. */
  peekBytes(key: Key): Buffer | undefined {
    return this.#locking ? this.#locked(this.#peekBytes, key) : this.#peekBytes(key);
  }

  #peekBytes(key: Key): Buffer | undefined {
    this.#v.stats[STAT_CMD_PEEK]++;
    const id = this.#lookupLive(key);
    if (id === NIL) return undefined;
    return this.#copyValue(this.#v.entry[id * ENTRY_WORDS + E_REF]);
  }

  /** True when `key` holds a live (unexpired) entry. Does not change recency. */
  has(key: Key): boolean {
    return this.#locking ? this.#locked(this.#has, key) : this.#has(key);
  }

  #has(key: Key): boolean {
    this.#v.stats[STAT_CMD_HAS]++;
    return this.#lookupLive(key) !== NIL;
  }

  /** Removes `key`. True if a live entry was removed. */
  delete(key: Key): boolean {
    return this.#locking ? this.#locked(this.#delete, key) : this.#delete(key);
  }

  #delete(key: Key): boolean {
    const v = this.#v;
    const slot = this.#findSlot(key);
    if (slot === NOT_FOUND) {
      v.stats[STAT_DELETE_MISSES]++;
      return false;
    }
    const id = this.#index.idAt(slot);
    if (this.#isExpired(id)) {
      this.#remove(id, slot, Removal.Expired);
      v.stats[STAT_DELETE_MISSES]++;
      return false;
    }
    this.#unlink(id, slot);
    v.stats[STAT_DELETE_HITS]++;
    return true;
  }

  /**
   * Milliseconds until `key` expires: Infinity if it has no TTL, 0 if it is
   * absent or expired (lru-cache's `getRemainingTTL`).
   */
  getRemainingTTL(key: Key): number {
    return this.#locking ? this.#locked(this.#getRemainingTTL, key) : this.#getRemainingTTL(key);
  }

  #getRemainingTTL(key: Key): number {
    const id = this.#lookupLive(key);
    if (id === NIL) return 0;
    const expiry = this.#v.metaU32[META_TTL_IN_USE] === 0 ? 0 : this.#v.expiry[id];
    return expiry === 0 ? Infinity : Math.max(0, expiry - Date.now());
  }

  /**
   * Keys from most to least recently used (lru-cache's `keys()` order), as
   * strings. Expired entries not yet reclaimed are skipped. Do not change the
   * cache while iterating.
   */
  *keys(): Generator<string> {
    if (this.#locking) {
      yield* this.#locked(() => Array.from(this.#idsByRecency(), (id) => this.#keyString(id)), undefined);
      return;
    }
    for (const id of this.#idsByRecency()) yield this.#keyString(id);
  }

  /** [key, value] pairs from most to least recently used, as strings. Same rules as `keys()`. */
  *entries(): Generator<[string, string]> {
    if (this.#locking) {
      yield* this.#locked(() => Array.from(this.#idsByRecency(), (id) => this.#entryPair(id)), undefined);
      return;
    }
    for (const id of this.#idsByRecency()) yield this.#entryPair(id);
  }

  #entryPair(id: EntryId): [string, string] {
    return [this.#keyString(id), this.#valueString(this.#v.entry[id * ENTRY_WORDS + E_REF])];
  }

  *#idsByRecency(): Generator<EntryId> {
    const now = Date.now();
    const ttlInUse = this.#v.metaU32[META_TTL_IN_USE] !== 0;
    const sentinel = this.#lru.sentinel;
    for (let id = this.#lru.head; id !== NIL; id = this.#lru.lessRecent(id)) {
      if (id !== sentinel && (!ttlInUse || !this.#expiredAt(id, now))) yield id;
    }
  }

  #keyString(id: EntryId): string {
    const ref = this.#v.entry[id * ENTRY_WORDS + E_REF];
    return this.#v.arenaBytes.toString('utf8', keyOffset(ref), keyOffset(ref) + chunkKeyLen(this.#v, ref));
  }

  /** Removes every expired entry now. Returns true if any was removed. */
  purgeStale(): boolean {
    return this.#locking ? this.#locked(this.#purgeStale, undefined) : this.#purgeStale();
  }

  #purgeStale(): boolean {
    if (this.#v.metaU32[META_TTL_IN_USE] === 0) return false;
    let removed = false;
    const now = Date.now();
    for (let id = 0; id < this.#entries.highWater; id++) {
      if (this.#entries.isLive(id) && this.#expiredAt(id as EntryId, now)) {
        this.#remove(id as EntryId, this.#index.slotOfId(id as EntryId), Removal.Expired);
        removed = true;
      }
    }
    return removed;
  }

  /** Removes every entry. Memory stays reserved (and resident where it was touched) for reuse. */
  clear(): void {
    return this.#locking ? this.#locked(this.#clear, undefined) : this.#clear();
  }

  #clear(): void {
    resetState(this.#v, this.#geometry);
    this.#index.clear();
    this.#v.stats[STAT_BYTES] = 0;
    this.#v.stats[STAT_CLEARS]++;
  }

  /** Counters and memory use, with memcached's names (see stats.ts). */
  stats(): CacheStats {
    return this.#locking ? this.#locked(this.#stats, undefined) : this.#stats();
  }

  #stats(): CacheStats {
    return collectStats(this.#v, this.#classes, this.#geometry, this.#slabs.pagesTouched());
  }

  /**
   * @internal Zeroes the cumulative counters (hits, misses, sets, evictions,
   * …) and keeps what describes the contents (entries, bytes): a cache just
   * filled from a snapshot then counts from zero, like a fresh one.
   */
  resetCounters(): void {
    this.#exclusive(() => {
      const stats = this.#v.stats;
      const bytes = stats[STAT_BYTES];
      stats.fill(0);
      stats[STAT_BYTES] = bytes;
      this.#v.classEvictions.fill(0);
    });
  }

  /* ---- lookups ---- */

  /** The index slot holding `key`, or NOT_FOUND (also for a key too long to have been stored). */
  #findSlot(key: Key): number {
    const keyLen = this.#keys.encodeForLookup(key);
    if (keyLen < 0) return NOT_FOUND;
    this.#keyLen = keyLen;
    return this.#index.findSlot(hashBytes(this.#keys.bytes, 0, keyLen, this.#seed), this.#matchesKey);
  }

  /** get/getBytes: counts the hit or miss, reclaims an expired entry, bumps recency. */
  #lookupForGet(key: Key): number {
    const v = this.#v;
    const slot = this.#findSlot(key);
    if (slot === NOT_FOUND) {
      v.stats[STAT_GET_MISSES]++;
      return NIL;
    }
    const id = this.#index.idAt(slot);
    if (this.#isExpired(id)) {
      this.#remove(id, slot, Removal.Expired);
      v.stats[STAT_GET_EXPIRED]++;
      v.stats[STAT_GET_MISSES]++;
      return NIL;
    }
    v.stats[STAT_GET_HITS]++;
    const ref = v.entry[id * ENTRY_WORDS + E_REF];
    setChunkFlags(v, ref, chunkFlags(v, ref) | CHUNK_FETCHED);
    this.#lru.moveToHead(id);
    return id;
  }

  /** peek/has: the live entry's id or NIL; reclaims an expired entry; recency unchanged. */
  #lookupLive(key: Key): number {
    const slot = this.#findSlot(key);
    if (slot === NOT_FOUND) return NIL;
    const id = this.#index.idAt(slot);
    if (this.#isExpired(id)) {
      this.#remove(id, slot, Removal.Expired);
      return NIL;
    }
    return id;
  }

  #copyValue(ref: number): Buffer {
    const v = this.#v;
    const length = chunkValueLen(v, ref);
    const start = keyOffset(ref) + chunkKeyLen(v, ref);
    const out = Buffer.allocUnsafe(length);
    if (length > SMALL_COPY_BYTES) {
      v.arenaBytes.copy(out, 0, start, start + length);
    } else {
      // Buffer#copy costs a view allocation and a native call: a short loop is cheaper.
      const arena = v.arenaBytes;
      for (let i = 0; i < length; i++) out[i] = arena[start + i];
    }
    return out;
  }

  /** Writes the value's bytes at `offset`; returns the chunk flags that describe them. */
  #writeValue(offset: number, value: Value, length: number): number {
    const arena = this.#v.arenaBytes;
    if (typeof value !== 'string') {
      arena.set(value, offset);
      return 0;
    }
    // A string whose UTF-8 length equals its length is pure ASCII: Latin-1 bytes are the same bytes.
    if (length === value.length) {
      arena.latin1Write(value, offset, length);
      return CHUNK_ASCII;
    }
    arena.utf8Write(value, offset, length);
    return 0;
  }

  /** The value of the entry in chunk `ref`, decoded as a string. */
  #valueString(ref: number): string {
    const v = this.#v;
    const start = keyOffset(ref) + chunkKeyLen(v, ref);
    const end = start + chunkValueLen(v, ref);
    return (chunkFlags(v, ref) & CHUNK_ASCII) !== 0 ? v.arenaBytes.latin1Slice(start, end) : v.arenaBytes.utf8Slice(start, end);
  }

  /* ---- TTL ---- */

  #setExpiry(id: EntryId, ttl: number): void {
    const v = this.#v;
    if (ttl !== 0) {
      v.metaU32[META_TTL_IN_USE] = 1;
      v.expiry[id] = Date.now() + ttl;
    } else if (v.metaU32[META_TTL_IN_USE] !== 0) {
      v.expiry[id] = 0;
    }
  }

  #isExpired(id: EntryId): boolean {
    return this.#v.metaU32[META_TTL_IN_USE] !== 0 && this.#expiredAt(id, Date.now());
  }

  #expiredAt(id: EntryId, now: number): boolean {
    const expiry = this.#v.expiry[id];
    return expiry !== 0 && expiry <= now;
  }

  /** Examines the next few entry ids for expired entries (amortised over sets, no timers). */
  #sweepStep(): void {
    const v = this.#v;
    const highWater = this.#entries.highWater;
    if (highWater === 0) return;
    const now = Date.now();
    let cursor = v.metaU32[META_SWEEP_CURSOR];
    for (let n = 0; n < SWEEP_STEP; n++) {
      if (cursor >= highWater) cursor = 0;
      const id = cursor++ as EntryId;
      if (this.#entries.isLive(id) && this.#expiredAt(id, now)) {
        this.#remove(id, this.#index.slotOfId(id), Removal.Expired);
      }
    }
    v.metaU32[META_SWEEP_CURSOR] = cursor;
  }

  /* ---- linking, eviction ---- */

  /** Removes entry `id` (at index `slot`) from the index, the LRU and its slab chunk. */
  #unlink(id: EntryId, slot: number): void {
    const v = this.#v;
    const ref = v.entry[id * ENTRY_WORDS + E_REF] as ChunkRef;
    const size = entryBytes(v, ref);
    const classId = this.#slabs.classOf(ref);
    this.#index.removeSlot(slot);
    this.#lru.unlink(id);
    this.#slabs.free(ref);
    this.#entries.free(id);
    v.metaU32[META_ITEMS]--;
    v.stats[STAT_BYTES] -= size;
    v.classRequestedBytes[classId] -= size;
  }

  /** Unlinks an entry the cache gave up (evicted or expired), counting why. */
  #remove(id: EntryId, slot: number, why: Removal, cause: EvictionCause = EvictionCause.Keys): void {
    const v = this.#v;
    const ref = v.entry[id * ENTRY_WORDS + E_REF];
    const fetched = (chunkFlags(v, ref) & CHUNK_FETCHED) !== 0;
    if (why === Removal.Expired) {
      v.stats[STAT_RECLAIMED]++;
      if (!fetched) v.stats[STAT_EXPIRED_UNFETCHED]++;
    } else {
      v.stats[cause === EvictionCause.Keys ? STAT_EVICTIONS_KEYS : STAT_EVICTIONS_BYTES]++;
      v.classEvictions[this.#slabs.classOf(ref)]++;
      if (!fetched) v.stats[STAT_EVICTED_UNFETCHED]++;
    }
    this.#unlink(id, slot);
  }

  /** Evicts the least recently used entry (an expired one counts as reclaimed instead). */
  #evictTail(cause: EvictionCause): void {
    const id = this.#lru.leastRecent();
    const why = this.#isExpired(id) ? Removal.Expired : Removal.Evicted;
    this.#remove(id, this.#index.slotOfId(id), why, cause);
  }

  /**
   * A chunk of class `classId`, making room if needed:
   *   1. a free chunk of the class, or a page from the pool (slabs.alloc);
   *   2. else a page released by a class holding a page's worth of free chunks;
   *   3. else evict the LRU entry and try again.
   * Ends because an empty cache has every page free.
   */
  #allocOrEvict(classId: ClassId): ChunkRef {
    for (;;) {
      const ref = this.#slabs.alloc(classId);
      if (ref !== NIL) return ref;
      if (this.#slabs.hasReclaimable()) {
        this.#slabs.releasePage(this.#slabs.reclaimableClass(), this.#relocate);
        continue;
      }
      if (this.#lru.leastRecent() === NIL) throw new Error('internal error: slab memory exhausted with no entry to evict');
      this.#evictTail(EvictionCause.Bytes);
    }
  }

  /** After slabs moved a live chunk: point its entry at the new chunk. */
  readonly #relocate = (from: ChunkRef, to: ChunkRef): void => {
    const v = this.#v;
    const hash = hashBytes(v.arenaBytes, keyOffset(to), chunkKeyLen(v, to), this.#seed);
    const slot = this.#index.findSlot(hash, (id) => v.entry[id * ENTRY_WORDS + E_REF] === from);
    v.entry[(this.#index.idAt(slot)) * ENTRY_WORDS + E_REF] = to;
  };

  /* ---- snapshot walk (see lru.ts, the walk sentinel) ---- */

  /**
   * @internal Starts a walk over the entries from least to most recent, for a
   * snapshot taken over many event-loop turns while the cache keeps serving.
   * Throws if a walk is already running on this cache.
   */
  beginWalk(): void {
    this.#exclusive(() => {
      if (this.#v.metaU32[META_WALK_ACTIVE] !== 0) throw new Error('a snapshot walk is already running on this cache');
      this.#lru.pushTail(this.#lru.sentinel);
      this.#v.metaU32[META_WALK_ACTIVE] = 1;
    });
  }

  /**
   * @internal Visits up to `max` more entries, each one more recent than the
   * last, and returns false once the walk has reached the most recent entry
   * (or the cache was cleared). Entries set or read during the walk move ahead
   * of the cursor and are visited (again) later; entries deleted behind it are
   * not taken back. `visit` sees the arena, its offsets and the absolute expiry
   * (0 = none); it runs under the lock and must not call the cache.
   */
  walkStep(max: number, visit: WalkVisitor): boolean {
    return this.#exclusive(() => {
      const v = this.#v;
      if (v.metaU32[META_WALK_ACTIVE] === 0) return false;
      const sentinel = this.#lru.sentinel;
      const now = Date.now();
      const ttlInUse = v.metaU32[META_TTL_IN_USE] !== 0;
      for (let n = 0; n < max; n++) {
        const id = this.#lru.moreRecent(sentinel);
        if (id === NIL) return false;
        this.#lru.moveBefore(sentinel, id);
        const expiry = ttlInUse ? v.expiry[id] : 0;
        if (expiry !== 0 && expiry <= now) continue;
        const ref = v.entry[id * ENTRY_WORDS + E_REF];
        const keyStart = keyOffset(ref);
        const keyLen = chunkKeyLen(v, ref);
        visit(v.arenaBytes, keyStart, keyLen, keyStart + keyLen, chunkValueLen(v, ref), expiry);
      }
      return true;
    });
  }

  /** @internal Ends a walk: takes the cursor out of the LRU list. */
  endWalk(): void {
    this.#exclusive(() => {
      if (this.#v.metaU32[META_WALK_ACTIVE] === 0) return;
      this.#lru.unlink(this.#lru.sentinel);
      this.#v.metaU32[META_WALK_ACTIVE] = 0;
    });
  }

  /** Runs `fn` under the lock when the cache is shared. */
  #exclusive<R>(fn: () => R): R {
    return this.#locking ? this.#locked(fn, undefined) : fn();
  }

  /** Runs `op` holding the cache lock (for caches shared between threads). */
  #locked<A, B, C, R>(op: (this: SlabLruCache, a: A, b: B, c: C) => R, a: A, b?: B, c?: C): R {
    this.#lock.acquire();
    try {
      return op.call(this, a, b as B, c as C);
    } finally {
      this.#lock.release();
    }
  }

  /** @internal For tests and the invariant checker only: the raw state. */
  static unsafeInternals(cache: SlabLruCache): CacheInternals {
    return {
      views: cache.#v,
      geometry: cache.#geometry,
      classes: cache.#classes,
      index: cache.#index,
      slabs: cache.#slabs,
      entries: cache.#entries,
      seed: cache.#seed,
    };
  }
}

/** @internal */
export interface CacheInternals {
  readonly views: Views;
  readonly geometry: Geometry;
  readonly classes: SizeClasses;
  readonly index: HashIndex;
  readonly slabs: Slabs;
  readonly entries: EntryTable;
  readonly seed: number;
}

function checkTtl(ttl: unknown): number {
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > Number.MAX_SAFE_INTEGER) {
    throw new TypeError(`ttl must be a non-negative integer number of milliseconds, got ${String(ttl)}`);
  }
  return ttl;
}
