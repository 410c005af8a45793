/**
 * SlabLruCache: the public cache, and the one place where the modules meet.
 *
 *   keys.ts          key/value checks; hashing and comparing keys in place
 *   hashIndex.ts     key hash → entry chunk (open addressing, backward-shift delete)
 *   chunk.ts         an entry is one chunk: links, header, key, value
 *   recencyList.ts   the list every policy orders its entries in
 *   lru.ts/sieve.ts  the eviction policy (policy.ts): what a hit does, who leaves
 *   slabs.ts         chunk memory in pages and size classes
 *   lock.ts          the lock of a cache shared between threads
 *
 * Linking an entry writes its chunk, indexes it, then hands it to the policy;
 * unlinking (`#unlink`) undoes all three. Memory pressure has one path,
 * `#allocOrEvict`: take a free chunk; else move a page that another class no
 * longer needs; else evict the policy's victim and try again. With LRU the
 * evictions therefore always follow exact LRU order, whatever the size class
 * of the entry that needs room. The maxSize bound (the entries' key + value
 * bytes), when given, is checked before that, in `#evictForSize`: the
 * policy's victims leave until the new bytes fit, as in lru-cache.
 *
 * Every input is checked before anything changes: a call that throws leaves
 * the cache as it was.
 */

import {
  Chunks,
  entrySize,
  F_ASCII,
  F_BINARY_KEY,
  F_EXPIRES,
  F_FETCHED,
  F_LIVE,
  CHUNK_FLAGS_BYTE,
  COMPACT_HEADER_BYTES,
  F_META,
  F_TEXT,
  F_VISITED,
  MAX_META_BYTES,
  SIZEOF_VERSION,
  type ChunkRef,
} from './chunk.js';
import { CacheLimitError, describeType, withEntriesStored } from './errors.js';
import { Fetcher, type FetchOptions } from './fetch.js';
import { hashBytes, randomSeed } from './hash.js';
import { HashIndex, NOT_FOUND } from './hashIndex.js';
import { KeyInput, valueByteLength, type Key, type Value } from './keys.js';
import {
  allocateHandle,
  checkMagic,
  claimStatRow,
  createViews,
  G_BYTES,
  G_SIZE,
  G_VERSION,
  geometryOf,
  META_EXPIRING_ITEMS,
  META_HAND,
  META_HASH_SEED,
  META_ITEMS,
  META_REMOVALS,
  META_PAGE_BUMP,
  META_SWEEP_CHUNK,
  META_SWEEP_PAGE,
  META_WALK_ACTIVE,
  NIL,
  NO_CLASS,
  resetState,
  SENTINEL_REF,
  STAT_CAS_BADVAL,
  STAT_CAS_HITS,
  STAT_CAS_MISSES,
  STAT_CLEARS,
  STAT_CMD_HAS,
  STAT_CMD_PEEK,
  STAT_CMD_SET,
  STAT_DELETE_HITS,
  STAT_DELETE_MISSES,
  STAT_EVICTED_UNFETCHED,
  STAT_EVICTIONS_BYTES,
  STAT_EVICTIONS_KEYS,
  STAT_EVICTIONS_SIZE,
  STAT_EXPIRED_UNFETCHED,
  STAT_GET_EXPIRED,
  STAT_GET_HITS,
  STAT_GET_MISSES,
  STAT_LOCK_FREE_FALLBACKS,
  STAT_LOCK_FREE_READS,
  STAT_LOCK_FREE_RETRIES,
  STAT_RECLAIMED,
  STAT_SET_REFUSED,
  STAT_SIEVE_PASSED,
  STAT_TOTAL_ITEMS,
  type ArenaBuffer,
  type CacheHandle,
  type Geometry,
  type Views,
} from './layout.js';
import { CacheLock } from './lock.js';
import { LookupWarmer, WARM_GROUP } from './lookupWarmer.js';
import { LruPolicy } from './lru.js';
import {
  resolveCallbacks,
  resolveOptions,
  type CacheCallbacks,
  type CacheOptions,
  type DisposeReason,
  type Disposer,
  type ResolvedOptions,
} from './options.js';
import type { EvictionPolicy } from './policy.js';
import { RecencyList } from './recencyList.js';
import { SievePolicy } from './sieve.js';
import { buildSizeClasses, type ClassId, type SizeClasses } from './sizeClasses.js';
import { StripedSeqlock, stripeCount } from './seqlock.js';
import { Slabs } from './slabs.js';
import { collectStats, type CacheStats } from './stats.js';
import { Walker, type WalkSink } from './walker.js';
import { NOTE_TOMBSTONE, NOTE_TOUCHED, WalkLog } from './walkLog.js';

export interface SetOptions {
  /** Time to live in ms for this entry; 0 = never expires. Default: the cache's `ttl` option. */
  ttl?: number;
  /**
   * A few bytes of metadata kept with the entry (at most 255 bytes of UTF-8),
   * for example the Content-Type the server stores a value with. Read it back
   * with `getEntry`. Default: none.
   */
  meta?: string;
}

/** An entry with what is known about it (`getEntry`, `getEntryBytes`). */
export interface CacheEntry<V> {
  readonly value: V;
  /** Its version (caches created with `versions`), else 0. Grows with every set of any key. */
  readonly version: number;
  /** The metadata set with it, or undefined. */
  readonly meta: string | undefined;
  /** ms until it expires; Infinity without a TTL. */
  readonly remainingTTL: number;
}

export interface GetEntryOptions {
  /** Read without counting a hit or changing recency (like `peek`). */
  peek?: boolean;
}

/** What the cache gives back for an entry's key or value: a string, or a Buffer if it was set as bytes. */
export type Stored = string | Buffer;

/** Why an entry left the cache without being deleted. */
const enum Removal {
  Evicted = 0,
  Expired = 1,
}
const enum EvictionCause {
  Keys = 0,
  Bytes = 1,
  Size = 2,
}
/** A class id no chunk has: an eviction for maxSize keeps no chunk for reuse. */
const NO_REUSE = -1;

const allocUnsafe = Buffer.allocUnsafe;

/** Values up to this many bytes are copied with a JS loop, longer ones natively. */
const SMALL_COPY_BYTES = 64;
/** ASCII string values up to this long are written with a JS loop (a native call costs more). */
const SHORT_TEXT = 16;

/** What a lock-free read returns to mean "do it under the lock". */
const FALL_BACK = Symbol('fall back to the lock');
/**
 * What a lock-free read hands back and counts, as bits: the value's form (none
 * for `has`, a string, a Buffer), whether it comes wrapped in an entry (version,
 * metadata, remaining TTL: getEntry), and whether it is a get (counts a hit or
 * miss and marks the entry visited) rather than a peek or has.
 */
type ReadKind = number;
const VALUE_NONE = 0;
const VALUE_STRING = 1;
const VALUE_BYTES = 2;
const VALUE_FORM = 3;
const AS_ENTRY = 4;
const AS_GET = 8;
const READ_GET = AS_GET | VALUE_STRING;
const READ_GET_BYTES = AS_GET | VALUE_BYTES;
const READ_PEEK = VALUE_STRING;
const READ_PEEK_BYTES = VALUE_BYTES;
const READ_HAS = VALUE_NONE;
/** Tries of a lock-free read before it takes the lock (each fails only if a writer changed its stripe). */
const LOCK_FREE_ATTEMPTS = 4;
/** Longest probe a lock-free read makes (Robin Hood keeps probes far shorter); longer ones take the lock. */
const MAX_LOCK_FREE_PROBE = 256;

/** Chunks the TTL sweep examines on each `set` once some entry has a TTL (Redis-style amortised expiry). */
const SWEEP_STEP = 4;

/** Internal request to build a cache over an existing handle (see `SlabLruCache.attach`). */
class AttachRequest {
  constructor(
    readonly handle: CacheHandle,
    readonly callbacks: CacheCallbacks,
  ) {}
}

/** The entry `getEntry` hands back; one shape, built in one place for the locked and the lock-free read. */
function entryOf<V>(value: V, version: number, meta: string | undefined, remainingTTL: number): CacheEntry<V> {
  return { value, version, meta, remainingTTL };
}

/** Where #warmEviction's reads go: a value that is stored cannot be dropped by the compiler, so the loads stay. */
const warmedReads = { sink: 0 };

export class SlabLruCache {
  // options and layout that cannot change for the life of the cache
  readonly #options: ResolvedOptions;
  readonly #handle: CacheHandle;
  readonly #geometry: Geometry;
  readonly #v: Views;
  readonly #arena: ArenaBuffer;
  readonly #classes: SizeClasses;
  readonly #seed: number;
  readonly #maxKeys: number;
  /** The maxSize option: 0 = no bound on the entries' key + value bytes. */
  readonly #maxSize: number;
  readonly #maxValueBytes: number;
  readonly #defaultTtl: number;
  /** 8 in a cache with `versions`, else 0. */
  readonly #versionBytes: number;

  // the modules, composed here only
  readonly #keys: KeyInput;
  readonly #index: HashIndex;
  readonly #chunks: Chunks;
  readonly #list: RecencyList;
  readonly #policy: EvictionPolicy;
  readonly #slabs: Slabs;
  readonly #lock: CacheLock;
  /** This instance's row of event counters (layout.ts): no other thread writes it. */
  readonly #counters: Float64Array;
  /** True once the cache may be shared (its handle was taken, or it was attached): then every operation locks. */
  #locking: boolean;
  readonly #dispose: Disposer | undefined;
  /** Removals waiting for `dispose`, as [value, key, reason] triples: called once the operation is over. */
  #disposals: unknown[] = [];
  readonly #fetcher: Fetcher;
  readonly #walkLog: WalkLog;
  readonly #walker: Walker;
  readonly #seqlock: StripedSeqlock;
  readonly #warmer: LookupWarmer;
  /** setMany's keys of the group being warmed. */
  readonly #groupKeys = new Array<unknown>(WARM_GROUP);
  /** True when gets, peeks and has() read without the lock (a shared SIEVE cache; seqlock.ts). */
  #optimistic = false;

  /**
   * Creates an empty cache. All memory is reserved now and touched as it is used.
   * Throws TypeError naming the first bad option.
   */
  constructor(options: CacheOptions = {}) {
    const attach = (options as unknown) instanceof AttachRequest ? (options as unknown as AttachRequest) : undefined;
    let callbacks: CacheCallbacks;
    if (attach) {
      this.#handle = attach.handle;
      this.#options = attach.handle.options;
      callbacks = attach.callbacks;
    } else {
      this.#options = resolveOptions(options);
      callbacks = resolveCallbacks(options);
      this.#handle = allocateHandle(this.#options, randomSeed());
    }
    this.#dispose = callbacks.dispose;
    this.#fetcher = new Fetcher(
      {
        // As it was set: a value cached as bytes comes back as bytes, not as a lossy string.
        get: (key) => this.#exclusive(() => {
          const ref = this.#lookupForGet(key);
          return ref === NIL ? undefined : this.#storedValue(ref);
        }),
        set: (key, value, options) => this.set(key, value, options),
      },
      callbacks.fetchMethod,
    );
    const o = this.#options;
    this.#geometry = geometryOf(o);
    this.#v = createViews(this.#handle);
    checkMagic(this.#v);
    this.#arena = this.#v.arenaBytes;
    this.#classes = buildSizeClasses(o);
    this.#seed = this.#v.metaU32[META_HASH_SEED]!;
    this.#maxKeys = o.maxKeys;
    this.#maxSize = o.maxSize;
    this.#maxValueBytes = o.maxValueBytes;
    this.#defaultTtl = o.ttl;
    this.#versionBytes = o.versions ? SIZEOF_VERSION : 0;
    this.#counters = claimStatRow(this.#v);
    this.#keys = new KeyInput(o.maxKeyBytes, this.#seed);
    this.#index = new HashIndex(this.#v, this.#geometry);
    this.#chunks = new Chunks(this.#v, this.#versionBytes);
    this.#list = new RecencyList(this.#v, this.#chunks);
    const counters = this.#counters;
    this.#walkLog = new WalkLog(this.#handle.walkLog);
    this.#policy =
      o.policy === 'sieve'
        ? new SievePolicy(this.#v, this.#list, this.#chunks, (ref, passed) => {
            if (passed) counters[STAT_SIEVE_PASSED]++;
            this.#noteIfWalking(NOTE_TOUCHED, ref);
          })
        : new LruPolicy(this.#list);
    this.#warmer = new LookupWarmer(this.#keys, this.#index, this.#chunks, this.#policy.reordersOnUse);
    this.#lock = new CacheLock(this.#v.metaI32, o.lockTimeoutMs);
    this.#seqlock = new StripedSeqlock(this.#handle.stripes, stripeCount(this.#geometry.indexSlots), o.lockTimeoutMs);
    this.#locking = false;
    this.#slabs = new Slabs(this.#v, this.#chunks, this.#classes, this.#geometry, this.#counters);
    this.#walker = new Walker({
      views: this.#v,
      list: this.#list,
      chunks: this.#chunks,
      index: this.#index,
      log: this.#walkLog,
      seed: this.#seed,
      items: () => this.#v.metaU32[META_ITEMS]!,
      reclaim: (ref) => this.#remove(ref, this.#slotOfChunk(ref), Removal.Expired),
    });
    if (attach !== undefined) this.#share();
  }

  /**
   * From now on another thread may use the cache: every operation takes the
   * lock — except, with SIEVE, reads, which check the stripe sequences instead
   * (seqlock.ts), so the index's writers start marking them.
   */
  #share(): void {
    if (this.#locking) return;
    this.#locking = true;
    if (!this.#policy.reordersOnUse) {
      this.#optimistic = true;
      this.#index.guard = this.#seqlock;
      this.#slabs.carveGuard = this.#seqlock;
      this.#seqlock.claimHintSlot();
    }
  }

  /**
   * A view of the cache behind `handle` (from `cache.handle`, usually posted to
   * a worker thread). Both see and change the same entries. Functions cannot
   * travel in a handle: give this instance its own `dispose`/`fetchMethod`.
   */
  static attach(handle: CacheHandle, callbacks: Pick<CacheOptions, 'dispose' | 'fetchMethod'> = {}): SlabLruCache {
    return new SlabLruCache(new AttachRequest(handle, resolveCallbacks(callbacks)) as unknown as CacheOptions);
  }

  /**
   * The shared buffers and options of this cache: structured-clonable, for
   * `postMessage`. Taking the handle switches this instance to locked
   * operation, since another thread may now attach.
   */
  get handle(): CacheHandle {
    this.#share();
    return this.#handle;
  }

  /** The options in force, defaults applied. */
  get options(): ResolvedOptions {
    return this.#options;
  }

  /** Entries in the cache (expired entries not yet reclaimed included). */
  get size(): number {
    return this.#v.metaU32[META_ITEMS]!;
  }

  /** Same as options.maxKeys, in lru-cache's words. */
  get max(): number {
    return this.#options.maxKeys;
  }

  /** Same as options.maxSize, in lru-cache's words (0: no bound). */
  get maxSize(): number {
    return this.#options.maxSize;
  }

  /** Key + value bytes of the entries held now: what maxSize bounds (lru-cache's name). */
  get calculatedSize(): number {
    return this.#v.global[G_SIZE]!;
  }

  /**
   * Stores `value` under `key`, evicting entries if the cache is full; with
   * LRU the entry becomes the most recently used. Throws TypeError (wrong
   * type, bad ttl) or CacheLimitError (over maxKeyBytes/maxValueBytes); then
   * nothing has changed.
   */
  set(key: Key, value: Value, options?: SetOptions): this {
    if (!this.#locking) this.#set(key, value, options);
    else {
      this.#lock.acquire();
      try {
        this.#set(key, value, options);
      } finally {
        this.#unlock();
      }
    }
    if (this.#disposals.length !== 0) this.#runDisposals();
    return this;
  }

  /**
   * Sets every `[key, value, options?]` entry in order: what
   * `for (const [k, v, o] of entries) cache.set(k, v, o)` does, with the same
   * results, evictions and statistics, and faster on a large cache: the memory
   * reads of each group of WARM_GROUP keys (their index slots, the entries
   * already there and, with LRU, their neighbours) are started together before
   * the group's sets run (lookupWarmer.ts). As with that loop, an entry that
   * throws stops the batch and the entries before it stay set; the error then
   * carries `entriesStored`, their number (errors.ts). A shared cache takes its
   * lock once per group. TypeError naming the first entry that is not an
   * array, before anything is set.
   */
  setMany(entries: readonly (readonly [Key, Value, SetOptions?])[]): this {
    if (!Array.isArray(entries)) throw new TypeError(`entries must be an array, got ${describeType(entries)}`);
    for (let i = 0; i < entries.length; i++) {
      const entry: unknown = entries[i];
      if (!Array.isArray(entry)) throw new TypeError(`entries[${i}] must be a [key, value] or [key, value, options] array, got ${describeType(entry)}`);
    }
    const groupKeys = this.#groupKeys;
    let stored = 0;
    try {
      for (let from = 0; from < entries.length; from += WARM_GROUP) {
        const count = Math.min(WARM_GROUP, entries.length - from);
        if (this.#locking) this.#lock.acquire();
        try {
          if (this.#warmer.worthwhile) {
            for (let i = 0; i < count; i++) groupKeys[i] = entries[from + i]![0];
            this.#warmer.warm(groupKeys, 0, count);
            groupKeys.fill(undefined); // not keeping the caller's keys alive
          }
          for (let i = from; i < from + count; i++) {
            const entry = entries[i]!;
            this.#set(entry[0], entry[1], entry[2]);
            stored++;
          }
        } finally {
          if (this.#locking) this.#unlock();
        }
        if (this.#disposals.length !== 0) this.#runDisposals();
      }
    } catch (error) {
      throw withEntriesStored(error, stored);
    }
    return this;
  }

  #set(key: Key, value: Value, options: SetOptions | undefined): this {
    const counters = this.#counters;
    const keys = this.#keys;
    counters[STAT_CMD_SET]++;
    let keyLen: number;
    let valueLen: number;
    let ttl: number;
    let meta: Buffer | undefined;
    try {
      keyLen = keys.prepareForWrite(key);
      valueLen = valueByteLength(value);
      if (valueLen > this.#maxValueBytes) throw new CacheLimitError('maxValueBytes', this.#maxValueBytes, valueLen);
      ttl = options?.ttl === undefined ? this.#defaultTtl : checkTtl(options.ttl);
      meta = options?.meta === undefined ? undefined : checkMeta(options.meta);
    } catch (error) {
      counters[STAT_SET_REFUSED]++;
      throw error;
    }
    const v = this.#v;
    const text = typeof value === 'string';
    const ascii = text && valueLen === value.length;
    const flags =
      F_LIVE |
      (text ? F_TEXT : 0) |
      (ascii ? F_ASCII : 0) |
      (ttl !== 0 ? F_EXPIRES : 0) |
      (meta !== undefined ? F_META : 0) |
      (keys.binary ? F_BINARY_KEY : 0);
    const size = entrySize(flags, this.#versionBytes, keyLen, valueLen, meta === undefined ? -1 : meta.length);
    const classId = this.#classes.classFor(size);
    if (v.metaU32[META_EXPIRING_ITEMS] !== 0) this.#sweepStep();
    const expiresAt = ttl !== 0 ? Date.now() + ttl : 0;
    const version = this.#versionBytes !== 0 ? ++v.global[G_VERSION]! : 0;

    if (v.metaU32[META_ITEMS]! >= this.#maxKeys) this.#warmEviction(keys.hash);
    /** A chunk of `classId` already taken for this entry (SIEVE, when its old entry went while making room). */
    let preallocated = NIL;
    const slot = this.#find();
    if (slot !== NOT_FOUND) {
      const ref = this.#index.refAt(slot);
      if (this.#slabs.classOf(ref) === classId) {
        // Same size class: rewrite the chunk in place; the policy keeps or bumps its place.
        const chunks = this.#chunks;
        const oldSize = chunks.entryBytes(ref);
        const oldValueLen = chunks.valueLen(ref);
        const oldFlags = chunks.flags(ref);
        if (this.#dispose !== undefined) this.#queueReplaced(ref, value);
        this.#index.touch(slot);
        this.#writeEntry(ref, flags | (oldFlags & F_VISITED), keyLen, value, valueLen, ascii, expiresAt, version, meta);
        if ((oldFlags & F_EXPIRES) !== (flags & F_EXPIRES)) v.metaU32[META_EXPIRING_ITEMS] += ttl !== 0 ? 1 : -1;
        v.global[G_BYTES] += size - oldSize;
        v.global[G_SIZE] += valueLen - oldValueLen; // the same key
        v.classRequestedBytes[classId] += size - oldSize;
        this.#policy.onUpdate(ref);
        // After onUpdate the entry is the last the policy would give up (LRU: the most recent; SIEVE: visited).
        if (this.#maxSize !== 0) this.#evictForSize(0, NIL);
        // A policy that leaves the entry in place: a walk that already wrote it must hear of the new value.
        if (!this.#policy.reordersOnUse) this.#noteIfWalking(NOTE_TOUCHED, ref);
        counters[STAT_TOTAL_ITEMS]++;
        return this;
      }
      if (this.#policy.reordersOnUse) {
        // LRU: the entry goes to the head anyway, so it leaves and comes back as a new one.
        if (this.#dispose !== undefined) this.#queueReplaced(ref, value);
        this.#unlink(ref, slot);
      } else {
        // SIEVE: an update is a hit, and the entry keeps its place in the queue. Its new chunk is
        // found first, with the entry still held (and visited, so the hand passes it), then takes
        // the old chunk's place.
        this.#policy.onUpdate(ref);
        const fresh = this.#chunkBeside(ref, classId, valueLen);
        // Making room may have moved the old chunk (a page release); in a cache of one page it
        // may have evicted the entry itself, which then comes back below as a new one.
        const at = this.#find();
        if (at !== NOT_FOUND) {
          const old = this.#index.refAt(at);
          if (this.#dispose !== undefined) this.#queueReplaced(old, value);
          this.#writeEntry(fresh, flags | (this.#chunks.flags(old) & F_VISITED), keyLen, value, valueLen, ascii, expiresAt, version, meta);
          this.#moveEntry(old, fresh);
          counters[STAT_TOTAL_ITEMS]++;
          return this;
        }
        preallocated = fresh;
      }
    }

    let ref = preallocated;
    if (ref === NIL && v.metaU32[META_ITEMS]! >= this.#maxKeys) ref = this.#evictOne(EvictionCause.Keys, classId);
    if (this.#maxSize !== 0) ref = this.#evictForSize(keyLen + valueLen, ref, classId);
    if (ref === NIL) ref = this.#allocOrEvict(classId);
    this.#writeEntry(ref, flags, keyLen, value, valueLen, ascii, expiresAt, version, meta);
    this.#index.insert(keys.hash, ref);
    this.#policy.onInsert(ref);
    v.metaU32[META_ITEMS]++;
    if (ttl !== 0) v.metaU32[META_EXPIRING_ITEMS]++;
    v.global[G_BYTES] += size;
    v.global[G_SIZE] += keyLen + valueLen;
    v.classRequestedBytes[classId] += size;
    counters[STAT_TOTAL_ITEMS]++;
    return this;
  }

  /** The value as a string (UTF-8 decoded), counting a hit (LRU: most recent now); undefined if absent or expired. */
  get(key: Key): string | undefined {
    if (this.#optimistic) {
      const read = this.#readWithoutLock(key, READ_GET);
      if (read !== FALL_BACK) return read as string | undefined;
    }
    let result: string | undefined;
    if (!this.#locking) result = this.#get(key);
    else {
      this.#lock.acquire();
      try {
        result = this.#get(key);
      } finally {
        this.#unlock();
      }
    }
    // An expired entry found on the way is disposed of now.
    if (this.#disposals.length !== 0) this.#runDisposals();
    return result;
  }

  #get(key: Key): string | undefined {
    const ref = this.#lookupForGet(key);
    return ref === NIL ? undefined : this.#valueString(ref);
  }

  /**
   * The values of `keys`, in order: what `keys.map((key) => cache.get(key))`
   * returns, with the same hits, misses and recency changes in the same order,
   * and faster on a large cache, where a get waits on memory: the memory reads
   * of each group of WARM_GROUP keys are started together before their gets
   * run (lookupWarmer.ts). A shared cache takes its lock once per group, and
   * removals of expired entries found in a group are disposed of after it.
   * Throws TypeError naming the first key of the wrong type before reading any.
   */
  getMany(keys: readonly Key[]): (string | undefined)[] {
    if (!Array.isArray(keys)) throw new TypeError(`keys must be an array, got ${describeType(keys)}`);
    for (let i = 0; i < keys.length; i++) {
      const key: unknown = keys[i];
      if (typeof key !== 'string' && !(key instanceof Uint8Array)) {
        throw new TypeError(`keys[${i}] must be a string or a Uint8Array, got ${describeType(key)}`);
      }
    }
    const values = new Array<string | undefined>(keys.length);
    for (let from = 0; from < keys.length; from += WARM_GROUP) {
      const to = Math.min(from + WARM_GROUP, keys.length);
      if (this.#optimistic) {
        // Reads without the lock: warming only reads too, so it needs no lock either.
        this.#warmer.warm(keys, from, to);
        for (let i = from; i < to; i++) values[i] = this.get(keys[i]!);
        continue;
      }
      if (this.#locking) this.#lock.acquire();
      try {
        this.#warmer.warm(keys, from, to);
        for (let i = from; i < to; i++) values[i] = this.#get(keys[i]!);
      } finally {
        if (this.#locking) this.#unlock();
      }
      if (this.#disposals.length !== 0) this.#runDisposals();
    }
    return values;
  }

  /** The value as a fresh Buffer (a copy, safe to keep), counting a hit; undefined if absent or expired. */
  getBytes(key: Key): Buffer | undefined {
    if (this.#optimistic) {
      const read = this.#readWithoutLock(key, READ_GET_BYTES);
      if (read !== FALL_BACK) return read as Buffer | undefined;
    }
    let result: Buffer | undefined;
    if (!this.#locking) result = this.#getBytes(key);
    else {
      this.#lock.acquire();
      try {
        result = this.#getBytes(key);
      } finally {
        this.#unlock();
      }
    }
    // An expired entry found on the way is disposed of now.
    if (this.#disposals.length !== 0) this.#runDisposals();
    return result;
  }

  #getBytes(key: Key): Buffer | undefined {
    const ref = this.#lookupForGet(key);
    return ref === NIL ? undefined : this.#copyValue(ref);
  }

  /** Like `get`, without changing recency or the hit/miss counters. */
  peek(key: Key): string | undefined {
    if (this.#optimistic) {
      const result = this.#readWithoutLock(key, READ_PEEK);
      if (result !== FALL_BACK) return result as string | undefined;
    }
    return this.#exclusive(() => {
      this.#counters[STAT_CMD_PEEK]++;
      const ref = this.#lookupLive(key);
      return ref === NIL ? undefined : this.#valueString(ref);
    });
  }

  /** Like `getBytes`, without changing recency or the hit/miss counters. */
  peekBytes(key: Key): Buffer | undefined {
    if (this.#optimistic) {
      const result = this.#readWithoutLock(key, READ_PEEK_BYTES);
      if (result !== FALL_BACK) return result as Buffer | undefined;
    }
    return this.#exclusive(() => {
      this.#counters[STAT_CMD_PEEK]++;
      const ref = this.#lookupLive(key);
      return ref === NIL ? undefined : this.#copyValue(ref);
    });
  }

  /** True when `key` holds a live (unexpired) entry. Does not change recency. */
  has(key: Key): boolean {
    if (this.#optimistic) {
      const result = this.#readWithoutLock(key, READ_HAS);
      if (result !== FALL_BACK) return result as boolean;
    }
    return this.#exclusive(() => {
      this.#counters[STAT_CMD_HAS]++;
      return this.#lookupLive(key) !== NIL;
    });
  }

  /** Removes `key`. True if a live entry was removed. */
  delete(key: Key): boolean {
    return this.#exclusive(() => {
      const counters = this.#counters;
      const slot = this.#keys.prepare(key) < 0 ? NOT_FOUND : this.#find();
      if (slot === NOT_FOUND) {
        counters[STAT_DELETE_MISSES]++;
        return false;
      }
      const ref = this.#index.refAt(slot);
      if (this.#isExpired(ref)) {
        this.#remove(ref, slot, Removal.Expired);
        counters[STAT_DELETE_MISSES]++;
        return false;
      }
      this.#unlink(ref, slot, 'delete');
      counters[STAT_DELETE_HITS]++;
      return true;
    });
  }

  /**
   * Stores `value` only if the entry's version is `expectedVersion` (0: only
   * if the key is absent) — compare-and-set, for caches created with
   * `versions`. Returns the new version, or 0 when nothing was stored because
   * the entry had another version (or was absent, or present against an
   * expected 0). Throws as `set` does for bad input.
   */
  setIf(key: Key, value: Value, expectedVersion: number, options?: SetOptions): number {
    if (this.#versionBytes === 0) throw new TypeError('setIf needs a cache created with the versions option');
    checkVersion(expectedVersion);
    return this.#exclusive(() => {
      const current = this.#currentVersion(key);
      const counters = this.#counters;
      if (current !== expectedVersion) {
        counters[current === 0 ? STAT_CAS_MISSES : STAT_CAS_BADVAL]++;
        return 0;
      }
      this.#set(key, value, options);
      counters[STAT_CAS_HITS]++;
      return this.#v.global[G_VERSION]!;
    });
  }

  /** Deletes `key` only if its version is `expectedVersion` (caches with `versions`). True if deleted. */
  deleteIf(key: Key, expectedVersion: number): boolean {
    if (this.#versionBytes === 0) throw new TypeError('deleteIf needs a cache created with the versions option');
    checkVersion(expectedVersion);
    return this.#exclusive(() => {
      const current = this.#currentVersion(key);
      if (current === 0 || current !== expectedVersion) {
        this.#counters[current === 0 ? STAT_CAS_MISSES : STAT_CAS_BADVAL]++;
        return false;
      }
      const slot = this.#find();
      this.#unlink(this.#index.refAt(slot), slot, 'delete');
      this.#counters[STAT_CAS_HITS]++;
      return true;
    });
  }

  /** The live entry's version, or 0 if absent; leaves the key prepared in `#keys`. Throws TypeError for a bad key. */
  #currentVersion(key: Key): number {
    const ref = this.#lookupLive(key);
    return ref === NIL ? 0 : this.#chunks.version(ref);
  }

  /**
   * The entry with its version, metadata and remaining TTL, value as a string;
   * undefined if absent or expired. Counts a hit and updates recency like
   * `get`, unless `peek`.
   */
  getEntry(key: Key, options?: GetEntryOptions): CacheEntry<string> | undefined {
    const peek = options?.peek === true;
    if (this.#optimistic) {
      const read = this.#readWithoutLock(key, AS_ENTRY | VALUE_STRING | (peek ? 0 : AS_GET));
      if (read !== FALL_BACK) return read as CacheEntry<string> | undefined;
    }
    return this.#exclusive(() => {
      const ref = this.#lookupEntry(key, peek);
      return ref === NIL ? undefined : this.#entryOf(ref, this.#valueString(ref));
    });
  }

  /** `getEntry` with the value as a fresh Buffer. */
  getEntryBytes(key: Key, options?: GetEntryOptions): CacheEntry<Buffer> | undefined {
    const peek = options?.peek === true;
    if (this.#optimistic) {
      const read = this.#readWithoutLock(key, AS_ENTRY | VALUE_BYTES | (peek ? 0 : AS_GET));
      if (read !== FALL_BACK) return read as CacheEntry<Buffer> | undefined;
    }
    return this.#exclusive(() => {
      const ref = this.#lookupEntry(key, peek);
      return ref === NIL ? undefined : this.#entryOf(ref, this.#copyValue(ref));
    });
  }

  #lookupEntry(key: Key, peek: boolean): number {
    if (!peek) return this.#lookupForGet(key);
    this.#counters[STAT_CMD_PEEK]++;
    return this.#lookupLive(key);
  }

  #entryOf<V>(ref: number, value: V): CacheEntry<V> {
    const chunks = this.#chunks;
    const flags = chunks.flags(ref);
    return entryOf(
      value,
      this.#versionBytes === 0 ? 0 : chunks.version(ref),
      (flags & F_META) === 0 ? undefined : this.#metaOf(ref),
      (flags & F_EXPIRES) === 0 ? Infinity : Math.max(0, chunks.expiresAt(ref) - Date.now()),
    );
  }

  #metaOf(ref: number): string {
    const at = this.#chunks.metaStart(ref);
    return this.#arena.utf8Slice(at + 1, at + 1 + this.#arena[at]!);
  }

  /**
   * Loads `key` through the `fetchMethod` option when it is not cached, once
   * for all concurrent callers (lru-cache's `fetch`; see fetch.ts). Without a
   * fetchMethod it resolves with `get(key)`.
   */
  fetch(key: Key, options?: FetchOptions): Promise<Value | undefined> {
    return this.#fetcher.fetch(key, options);
  }

  /**
   * Milliseconds until `key` expires: Infinity if it has no TTL, 0 if it is
   * absent or expired (lru-cache's `getRemainingTTL`).
   */
  getRemainingTTL(key: Key): number {
    return this.#exclusive(() => {
      const ref = this.#lookupLive(key);
      if (ref === NIL) return 0;
      if ((this.#chunks.flags(ref) & F_EXPIRES) === 0) return Infinity;
      return Math.max(0, this.#chunks.expiresAt(ref) - Date.now());
    });
  }

  /* ---- iteration, lru-cache's names and order ---- */

  /**
   * Keys, most recent first (LRU; SIEVE: newest first), as they were set: a
   * string, or a Buffer for a key set as bytes. Expired entries not yet
   * reclaimed are skipped. While iterating you may delete the entry just
   * visited and read any entry; another removal (a delete, an eviction by a
   * set) makes the iterator throw rather than lose its place. On a cache
   * shared between threads the entries are copied under the lock first.
   */
  keys(): Generator<Stored> {
    return this.#iterate(true, (ref) => this.#keyOf(ref));
  }

  /** Values in the order of `keys()`, as they were set: a string, or a Buffer for bytes. */
  values(): Generator<Stored> {
    return this.#iterate(true, (ref) => this.#storedValue(ref));
  }

  /** [key, value] pairs in the order of `keys()`. */
  entries(): Generator<[Stored, Stored]> {
    return this.#iterate(true, (ref) => [this.#keyOf(ref), this.#storedValue(ref)]);
  }

  /** Keys, least recent first. */
  rkeys(): Generator<Stored> {
    return this.#iterate(false, (ref) => this.#keyOf(ref));
  }

  rvalues(): Generator<Stored> {
    return this.#iterate(false, (ref) => this.#storedValue(ref));
  }

  rentries(): Generator<[Stored, Stored]> {
    return this.#iterate(false, (ref) => [this.#keyOf(ref), this.#storedValue(ref)]);
  }

  /** `for (const [key, value] of cache)`, as `entries()`. */
  [Symbol.iterator](): Generator<[Stored, Stored]> {
    return this.entries();
  }

  /** Calls `fn(value, key, cache)` for each entry, most recent first. */
  forEach(fn: (value: Stored, key: Stored, cache: this) => unknown, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) fn.call(thisArg, value, key, this);
  }

  /** `forEach`, least recent first. */
  rforEach(fn: (value: Stored, key: Stored, cache: this) => unknown, thisArg?: unknown): void {
    for (const [key, value] of this.rentries()) fn.call(thisArg, value, key, this);
  }

  *#iterate<T>(headFirst: boolean, read: (ref: number) => T): Generator<T> {
    if (this.#locking) {
      yield* this.#exclusive(() => {
        const all: T[] = [];
        const now = Date.now();
        for (let ref = this.#listEnd(headFirst); ref !== NIL; ref = this.#listStep(ref, headFirst)) {
          if (ref !== SENTINEL_REF && !this.#expiredAt(ref, now)) all.push(read(ref));
        }
        return all;
      });
      return;
    }
    const meta = this.#v.metaU32;
    for (let ref = this.#listEnd(headFirst); ref !== NIL; ) {
      // Step first: the caller may delete (or move to the head) the entry it is given.
      const next = this.#listStep(ref, headFirst);
      if (ref === SENTINEL_REF || this.#expiredAt(ref, Date.now())) {
        ref = next;
        continue;
      }
      const removals = meta[META_REMOVALS]!;
      yield read(ref);
      const removed = meta[META_REMOVALS]! - removals;
      // Allowed: nothing removed, or exactly the entry just visited.
      if (removed !== 0 && !(removed === 1 && !this.#chunks.isLive(ref))) {
        throw new Error('cache entries were removed during iteration (only the entry being visited may be deleted)');
      }
      ref = next;
    }
  }

  #listEnd(headFirst: boolean): number {
    return headFirst ? this.#list.head : this.#list.tail;
  }

  #listStep(ref: number, headFirst: boolean): number {
    return headFirst ? this.#list.towardTail(ref) : this.#list.towardHead(ref);
  }

  /** The key of the entry in chunk `ref`: a string, or a Buffer copy if it was set as bytes. */
  #keyOf(ref: number): Stored {
    const chunks = this.#chunks;
    const start = chunks.keyStart(ref);
    const end = start + chunks.keyLen(ref);
    if ((chunks.flags(ref) & F_BINARY_KEY) !== 0) return Buffer.from(this.#arena.subarray(start, end));
    return this.#arena.utf8Slice(start, end);
  }

  /** The value of the entry in chunk `ref` as it was set: a string, or a Buffer copy for bytes. */
  #storedValue(ref: number): Stored {
    return (this.#chunks.flags(ref) & F_TEXT) !== 0 ? this.#valueString(ref) : this.#copyValue(ref);
  }

  /** Removes every expired entry now. Returns true if any was removed. */
  purgeStale(): boolean {
    return this.#exclusive(() => {
      if (this.#v.metaU32[META_EXPIRING_ITEMS] === 0) return false;
      const now = Date.now();
      const expired: number[] = [];
      for (let ref = this.#list.head; ref !== NIL; ref = this.#list.towardTail(ref)) {
        if (ref !== SENTINEL_REF && this.#expiredAt(ref, now)) expired.push(ref);
      }
      for (const ref of expired) this.#remove(ref, this.#slotOfChunk(ref), Removal.Expired);
      return expired.length > 0;
    });
  }

  /** Removes every entry. Memory stays reserved (and resident where it was touched) for reuse. */
  clear(): void {
    this.#exclusive(() => {
      if (this.#dispose !== undefined) {
        // Least recent first, as lru-cache's clear() disposes.
        for (let ref = this.#list.tail; ref !== NIL; ref = this.#list.towardHead(ref)) {
          if (ref !== SENTINEL_REF) this.#queueDisposal(ref, 'delete');
        }
      }
      const v = this.#v;
      const walking = v.metaU32[META_WALK_ACTIVE] !== 0;
      if (this.#optimistic) this.#seqlock.touchAll();
      v.metaU32[META_REMOVALS] += v.metaU32[META_ITEMS]!;
      resetState(v, this.#geometry);
      this.#index.clear();
      this.#counters[STAT_CLEARS]++;
      if (walking) {
        // A running snapshot walk goes on: the clear is part of what it records.
        this.#walkLog.noteClear();
        this.#walker.relinkAfterClear();
        v.metaU32[META_WALK_ACTIVE] = 1;
      }
    });
  }

  /** Counters and memory use, with memcached's names (see stats.ts). */
  stats(): CacheStats {
    return this.#exclusive(() => collectStats(this.#v, this.#classes, this.#geometry, this.#slabs.pagesTouched()));
  }

  /**
   * @internal Zeroes the cumulative counters (hits, misses, sets, evictions,
   * …) of every thread and keeps what describes the contents (entries,
   * bytes): a cache just filled from a snapshot then counts from zero, like
   * a fresh one.
   */
  resetCounters(): void {
    this.#exclusive(() => {
      this.#v.statRows.fill(0);
      this.#v.classEvictions.fill(0);
    });
  }

  /* ---- lock-free reads (shared SIEVE caches; seqlock.ts) ---- */

  /**
   * A get, getBytes, getEntry, getEntryBytes, peek, peekBytes or has without
   * the lock: reads under the stripe sequences and returns the result, or
   * FALL_BACK when the locked path must do it (a writer kept changing the
   * stripe, the entry expired and must be reclaimed, a snapshot walk must hear
   * of a visited bit, an unusually long probe). Everything read from shared
   * memory is bounds-checked before use: a torn read may see any bytes, but is
   * always thrown away.
   */
  #readWithoutLock(key: Key, kind: ReadKind): unknown {
    const keys = this.#keys;
    const counters = this.#counters;
    if (keys.prepare(key) < 0) return this.#countMiss(kind, counters);
    const index = this.#index;
    const chunks = this.#chunks;
    const seqlock = this.#seqlock;
    const arena = this.#arena;
    const arenaEnd = arena.length;
    const hash = keys.hash;
    const length = keys.length;
    const home = index.home(hash);
    const stripe = seqlock.stripeOf(home);
    // A probe that may run into the next stripe checks that one too.
    const last = home + MAX_LOCK_FREE_PROBE >= index.slots ? 0 : home + MAX_LOCK_FREE_PROBE;
    const stripe2 = seqlock.stripeOf(last);
    // Most probes stay inside one stripe: then its sequence is read once, not twice.
    const twoStripes = stripe2 !== stripe;
    for (let attempt = 0; attempt < LOCK_FREE_ATTEMPTS; attempt++) {
      const epoch = seqlock.beginEpoch();
      const seq = seqlock.begin(stripe);
      const seq2 = twoStripes ? seqlock.begin(stripe2) : seq;
      if (epoch < 0 || seq < 0 || seq2 < 0) {
        counters[STAT_LOCK_FREE_RETRIES]++;
        continue;
      }
      let ref = NIL;
      let slot = home;
      let distance = 0;
      for (; distance < MAX_LOCK_FREE_PROBE; slot = index.next(slot), distance++) {
        const at = index.refAt(slot);
        if (at === 0) break;
        if (index.hashAt(slot) === hash) {
          if (at * 4 + COMPACT_HEADER_BYTES <= arenaEnd && chunks.keyLen(at) === length) {
            const start = chunks.keyStart(at);
            if (start + length <= arenaEnd && keys.equalsAt(arena, start)) {
              ref = at;
              break;
            }
          }
        } else if (index.displacement(slot) < distance) {
          break;
        }
      }
      if (distance === MAX_LOCK_FREE_PROBE) return this.#fallBack(counters);
      let value: unknown = undefined;
      let flags = 0;
      let version = 0;
      let meta: string | undefined;
      let expiresAt = Infinity;
      if (ref !== NIL) {
        flags = chunks.flags(ref);
        const start = chunks.keyStart(ref) + length;
        const valueLength = chunks.valueLen(ref);
        const end = start + valueLength;
        if (!(valueLength <= this.#maxValueBytes && end <= arenaEnd)) {
          counters[STAT_LOCK_FREE_RETRIES]++;
          continue;
        }
        const form = kind & VALUE_FORM;
        if (form === VALUE_NONE) value = true;
        else if (form === VALUE_STRING) value = (flags & F_ASCII) !== 0 ? arena.latin1Slice(start, end) : arena.utf8Slice(start, end);
        else value = this.#copyRange(start, valueLength);
        // Everything the answer carries is read here, inside the window the sequences vouch for.
        if ((flags & F_EXPIRES) !== 0) expiresAt = chunks.expiresAt(ref);
        if ((kind & AS_ENTRY) !== 0) {
          if (this.#versionBytes !== 0) version = chunks.version(ref);
          if ((flags & F_META) !== 0) {
            const metaEnd = end < arenaEnd ? end + 1 + arena[end]! : arenaEnd + 1;
            if (metaEnd > arenaEnd) {
              counters[STAT_LOCK_FREE_RETRIES]++;
              continue;
            }
            meta = arena.utf8Slice(end + 1, metaEnd);
          }
        }
      }
      if (!seqlock.stillValid(stripe, seq, stripe2, seq2, epoch)) {
        counters[STAT_LOCK_FREE_RETRIES]++;
        continue;
      }
      // The read is good. What follows changes only hint bits and this thread's counters.
      if (ref === NIL) {
        counters[STAT_LOCK_FREE_READS]++;
        return this.#countMiss(kind, counters);
      }
      const now = expiresAt === Infinity ? 0 : Date.now();
      if (expiresAt <= now) return this.#fallBack(counters); // reclaimed under the lock
      if ((kind & AS_GET) !== 0) {
        if ((flags & (F_VISITED | F_FETCHED)) !== (F_VISITED | F_FETCHED)) {
          // A walk must note the bit's change: let the locked path do this hit.
          if (this.#v.metaU32[META_WALK_ACTIVE] !== 0) return this.#fallBack(counters);
          // Only if no writer touched the stripe since the read (by now one may have freed this chunk):
          // the handshake in seqlock.ts keeps the bits out of another class's bytes.
          if (!seqlock.orIfStillValid(stripe, seq, stripe2, seq2, epoch, arena, ref * 4 + CHUNK_FLAGS_BYTE, F_VISITED | F_FETCHED)) {
            counters[STAT_LOCK_FREE_RETRIES]++;
            continue;
          }
        }
        counters[STAT_GET_HITS]++;
      } else {
        counters[(kind & VALUE_FORM) === VALUE_NONE ? STAT_CMD_HAS : STAT_CMD_PEEK]++;
      }
      counters[STAT_LOCK_FREE_READS]++;
      return (kind & AS_ENTRY) === 0 ? value : entryOf(value, version, meta, expiresAt === Infinity ? Infinity : Math.max(0, expiresAt - now));
    }
    return this.#fallBack(counters);
  }

  #fallBack(counters: Float64Array): typeof FALL_BACK {
    counters[STAT_LOCK_FREE_FALLBACKS]++;
    return FALL_BACK;
  }

  #countMiss(kind: ReadKind, counters: Float64Array): unknown {
    const has = (kind & VALUE_FORM) === VALUE_NONE;
    if ((kind & AS_GET) !== 0) counters[STAT_GET_MISSES]++;
    else counters[has ? STAT_CMD_HAS : STAT_CMD_PEEK]++;
    return has ? false : undefined;
  }

  /* ---- lookups ---- */

  /** The index slot holding the key prepared in `#keys`, or NOT_FOUND. */
  #find(): number {
    const index = this.#index;
    const chunks = this.#chunks;
    const keys = this.#keys;
    const arena = this.#arena;
    const hash = keys.hash;
    const length = keys.length;
    for (let slot = index.home(hash), distance = 0; ; slot = index.next(slot), distance++) {
      const ref = index.refAt(slot);
      if (ref === 0) return NOT_FOUND;
      if (index.hashAt(slot) === hash) {
        if (chunks.keyLen(ref) === length && keys.equalsAt(arena, chunks.keyStart(ref))) return slot;
      } else if (index.displacement(slot) < distance) {
        // Robin Hood order: the key would have been placed here or earlier.
        return NOT_FOUND;
      }
    }
  }

  /** get/getBytes: counts the hit or miss, reclaims an expired entry, tells the policy. Returns the chunk or NIL. */
  #lookupForGet(key: Key): number {
    const counters = this.#counters;
    const slot = this.#keys.prepare(key) < 0 ? NOT_FOUND : this.#find();
    if (slot === NOT_FOUND) {
      counters[STAT_GET_MISSES]++;
      return NIL;
    }
    const ref = this.#index.refAt(slot);
    let flags = this.#chunks.flags(ref);
    if ((flags & F_EXPIRES) !== 0 && this.#chunks.expiresAt(ref) <= Date.now()) {
      this.#remove(ref, slot, Removal.Expired);
      counters[STAT_GET_EXPIRED]++;
      counters[STAT_GET_MISSES]++;
      return NIL;
    }
    counters[STAT_GET_HITS]++;
    if ((flags & F_FETCHED) === 0) {
      flags |= F_FETCHED;
      this.#chunks.setFlags(ref, flags);
    }
    this.#policy.onHit(ref, flags);
    return ref;
  }

  /** peek/has: the live entry's chunk or NIL; reclaims an expired entry; recency unchanged. */
  #lookupLive(key: Key): number {
    const slot = this.#keys.prepare(key) < 0 ? NOT_FOUND : this.#find();
    if (slot === NOT_FOUND) return NIL;
    const ref = this.#index.refAt(slot);
    if (this.#isExpired(ref)) {
      this.#remove(ref, slot, Removal.Expired);
      return NIL;
    }
    return ref;
  }

  /** The index slot of the live entry in chunk `ref` (its key is re-hashed from the chunk). */
  #slotOfChunk(ref: number): number {
    const chunks = this.#chunks;
    return this.#index.slotOf(hashBytes(this.#arena, chunks.keyStart(ref), chunks.keyLen(ref), this.#seed), ref);
  }

  #copyValue(ref: number): Buffer {
    const chunks = this.#chunks;
    return this.#copyRange(chunks.keyStart(ref) + chunks.keyLen(ref), chunks.valueLen(ref));
  }

  /** A fresh Buffer with the arena's bytes [start, start + length). */
  #copyRange(start: number, length: number): Buffer {
    const out = allocUnsafe(length);
    const arena = this.#arena;
    if (length > SMALL_COPY_BYTES) {
      arena.copy(out, 0, start, start + length);
    } else {
      // Buffer#copy costs a view allocation and a native call: a short loop is cheaper.
      for (let i = 0; i < length; i++) out[i] = arena[start + i]!;
    }
    return out;
  }

  /** The value of the entry in chunk `ref`, decoded as a string. */
  #valueString(ref: number): string {
    const chunks = this.#chunks;
    const start = chunks.keyStart(ref) + chunks.keyLen(ref);
    const end = start + chunks.valueLen(ref);
    return (chunks.flags(ref) & F_ASCII) !== 0 ? this.#arena.latin1Slice(start, end) : this.#arena.utf8Slice(start, end);
  }

  /* ---- writing an entry ---- */

  /** Writes header, key (from `#keys`) and value into chunk `ref`; its links are left as they are. */
  #writeEntry(
    ref: number,
    flags: number,
    keyLen: number,
    value: Value,
    valueLen: number,
    ascii: boolean,
    expiresAt: number,
    version: number,
    meta: Buffer | undefined,
  ): void {
    const arena = this.#arena;
    const keyStart = this.#chunks.writeHeader(ref, flags, keyLen, valueLen, expiresAt, version);
    this.#keys.writeAt(arena, keyStart);
    const at = keyStart + keyLen;
    if (typeof value !== 'string') {
      if (valueLen > SMALL_COPY_BYTES) arena.set(value, at);
      else for (let i = 0; i < valueLen; i++) arena[at + i] = value[i]!;
    } else if (ascii) {
      // A string whose UTF-8 length equals its length is pure ASCII: its Latin-1 bytes are the same bytes.
      if (valueLen > SHORT_TEXT) arena.latin1Write(value, at, valueLen);
      else for (let i = 0; i < valueLen; i++) arena[at + i] = value.charCodeAt(i);
    } else {
      arena.utf8Write(value, at, valueLen);
    }
    if (meta !== undefined) {
      arena[at + valueLen] = meta.length;
      arena.set(meta, at + valueLen + 1);
    }
  }

  /* ---- TTL ---- */

  #isExpired(ref: number): boolean {
    return (this.#chunks.flags(ref) & F_EXPIRES) !== 0 && this.#chunks.expiresAt(ref) <= Date.now();
  }

  #expiredAt(ref: number, now: number): boolean {
    return (this.#chunks.flags(ref) & F_EXPIRES) !== 0 && this.#chunks.expiresAt(ref) <= now;
  }

  /**
   * Examines the next few chunks of the slab pages, in address order, and
   * reclaims those whose TTL has passed (amortised over sets, no timers).
   * Runs only while some live entry has an expiry.
   */
  #sweepStep(): void {
    const v = this.#v;
    const pagesTouched = v.metaU32[META_PAGE_BUMP]!;
    if (pagesTouched === 0) return;
    const now = Date.now();
    let page = v.metaU32[META_SWEEP_PAGE]!;
    let chunk = v.metaU32[META_SWEEP_CHUNK]!;
    // Empty pages are skipped without counting, but never more than one lap of them.
    for (let examined = 0, skipped = 0; examined < SWEEP_STEP && skipped <= pagesTouched; ) {
      if (page >= pagesTouched) {
        page = 0;
        chunk = 0;
      }
      const c = v.pageClass[page]!;
      if (c === NO_CLASS || chunk >= v.pageCarved[page]!) {
        page++;
        chunk = 0;
        skipped++;
        continue;
      }
      const ref = this.#slabs.pageStart(page) + (chunk * this.#classes.chunkBytes[c]!) / 4;
      chunk++;
      examined++;
      if ((this.#chunks.flags(ref) & F_LIVE) !== 0 && this.#expiredAt(ref, now)) {
        this.#remove(ref, this.#slotOfChunk(ref), Removal.Expired);
      }
    }
    v.metaU32[META_SWEEP_PAGE] = page;
    v.metaU32[META_SWEEP_CHUNK] = chunk;
  }

  /* ---- unlinking, eviction ---- */

  /**
   * Removes the entry in chunk `ref` (at index `slot`) from the index, the
   * policy and the slabs (unless `keepChunk`: the caller reuses it); with a
   * `dispose` option, queues it under `reason` (null: a replacement, already
   * queued by the set).
   */
  #unlink(ref: number, slot: number, reason: DisposeReason | null = null, keepChunk = false): void {
    const v = this.#v;
    const chunks = this.#chunks;
    if (reason !== null && this.#dispose !== undefined) this.#queueDisposal(ref, reason);
    v.metaU32[META_REMOVALS]++;
    this.#noteIfWalking(NOTE_TOMBSTONE, ref);
    const size = chunks.entryBytes(ref);
    const payload = chunks.keyLen(ref) + chunks.valueLen(ref);
    const classId = this.#slabs.classOf(ref);
    if ((chunks.flags(ref) & F_EXPIRES) !== 0) v.metaU32[META_EXPIRING_ITEMS]--;
    this.#index.removeSlot(slot);
    this.#policy.onRemove(ref);
    // A kept chunk goes straight to the entry that needed room (still counted live in its class).
    if (!keepChunk) this.#slabs.free(ref as ChunkRef);
    v.metaU32[META_ITEMS]--;
    v.global[G_BYTES] -= size;
    v.global[G_SIZE] -= payload;
    v.classRequestedBytes[classId] -= size;
  }

  /**
   * A set into a full cache is about to probe for its key and then evict. The
   * probe's first index slot, the victim's index slot and the victim's
   * neighbour (whose link the unlink rewrites) are three random cache misses
   * that do not depend on one another, but the code reaches them one after
   * another. Reading all three here, one right after the other, lets the CPU
   * wait for them together; the eviction then finds them in its caches.
   * The victim's own chunk is usually in the caches already: when evictions
   * follow one another, the previous one wrote its link (it was that one's
   * neighbour).
   */
  #warmEviction(newHash: number): void {
    const victim = this.#policy.likelyVictim();
    if (victim === NIL) return;
    const chunks = this.#chunks;
    const index = this.#index;
    const victimHome = index.home(hashBytes(this.#arena, chunks.keyStart(victim), chunks.keyLen(victim), this.#seed));
    const newHome = index.home(newHash);
    const neighbour = chunks.prev(victim);
    warmedReads.sink = index.hashAt(newHome) ^ index.hashAt(victimHome) ^ (neighbour === NIL ? 0 : chunks.prev(neighbour));
  }

  /** Unlinks an entry the cache gave up (evicted or expired), counting why. */
  #remove(ref: number, slot: number, why: Removal, cause: EvictionCause = EvictionCause.Keys, keepChunk = false): void {
    const counters = this.#counters;
    const fetched = (this.#chunks.flags(ref) & F_FETCHED) !== 0;
    if (why === Removal.Expired) {
      counters[STAT_RECLAIMED]++;
      if (!fetched) counters[STAT_EXPIRED_UNFETCHED]++;
    } else {
      counters[cause === EvictionCause.Keys ? STAT_EVICTIONS_KEYS : cause === EvictionCause.Bytes ? STAT_EVICTIONS_BYTES : STAT_EVICTIONS_SIZE]++;
      this.#v.classEvictions[this.#slabs.classOf(ref)]++;
      if (!fetched) counters[STAT_EVICTED_UNFETCHED]++;
    }
    this.#unlink(ref, slot, why === Removal.Expired ? 'expire' : 'evict', keepChunk);
  }

  /**
   * Evicts the policy's victim (an expired one counts as reclaimed instead).
   * When the victim's chunk is of class `reuseClass`, it is not freed but
   * returned, for the entry that needed the room (no free-list round trip);
   * else returns NIL.
   */
  #evictOne(cause: EvictionCause, reuseClass: number): number {
    const ref = this.#policy.victim();
    const keep = this.#slabs.classOf(ref) === reuseClass;
    this.#remove(ref, this.#slotOfChunk(ref), this.#isExpired(ref) ? Removal.Expired : Removal.Evicted, cause, keep);
    return keep ? ref : NIL;
  }

  /**
   * Evicts the policy's victims until `adding` more key + value bytes fit
   * under maxSize. `kept` is a chunk an earlier eviction of this set kept for
   * the new entry (or NIL); returns it, or the first chunk an eviction here
   * keeps, for the caller to write into. Ends: maxSize holds the largest
   * entry, so an empty cache has room.
   */
  #evictForSize(adding: number, kept: number, reuseClass: number = NO_REUSE): number {
    const v = this.#v;
    while (v.global[G_SIZE]! + adding > this.#maxSize) {
      if (v.metaU32[META_ITEMS] === 0) throw new Error('internal error: over maxSize with no entry to evict');
      const reused = this.#evictOne(EvictionCause.Size, kept === NIL ? reuseClass : NO_REUSE);
      if (reused !== NIL) kept = reused;
    }
    return kept;
  }

  /**
   * A chunk of class `classId` for the new value, of `valueLen` bytes, of the
   * entry in chunk `ref`, which stays held meanwhile (maxSize counts the
   * change in value bytes: the key is the same).
   */
  #chunkBeside(ref: number, classId: ClassId, valueLen: number): number {
    const growth = valueLen - this.#chunks.valueLen(ref);
    const kept = this.#maxSize !== 0 ? this.#evictForSize(growth, NIL, classId) : NIL;
    return kept !== NIL ? kept : this.#allocOrEvict(classId);
  }

  /**
   * The entry in chunk `old` moves to chunk `fresh`, where its new value is
   * written already: `fresh` takes its links, and then, as after a page move,
   * its index slot and its place in the list (and the SIEVE hand's); it also
   * takes its counts, and `old` is freed.
   */
  #moveEntry(old: number, fresh: number): void {
    const v = this.#v;
    const chunks = this.#chunks;
    const oldSize = chunks.entryBytes(old);
    const oldClass = this.#slabs.classOf(old);
    const newSize = chunks.entryBytes(fresh);
    const expiringChange = ((chunks.flags(fresh) & F_EXPIRES) !== 0 ? 1 : 0) - ((chunks.flags(old) & F_EXPIRES) !== 0 ? 1 : 0);
    v.global[G_SIZE] += chunks.valueLen(fresh) - chunks.valueLen(old); // the same key
    chunks.setPrev(fresh, chunks.prev(old));
    chunks.setNext(fresh, chunks.next(old));
    this.#relocate(old as ChunkRef, fresh as ChunkRef);
    // An iterator about to step onto the old chunk must notice that it is gone.
    v.metaU32[META_REMOVALS]++;
    this.#slabs.free(old as ChunkRef);
    v.metaU32[META_EXPIRING_ITEMS] += expiringChange;
    v.global[G_BYTES] += newSize - oldSize;
    v.classRequestedBytes[oldClass] -= oldSize;
    v.classRequestedBytes[this.#slabs.classOf(fresh)] += newSize;
    // A walk that already wrote the entry must hear of the new value.
    this.#noteIfWalking(NOTE_TOUCHED, fresh);
  }

  /**
   * A chunk of class `classId`, making room if needed:
   *   1. a free chunk of the class, or a page from the pool (slabs.alloc);
   *   2. else a page released by a class holding a page's worth of free chunks;
   *   3. else evict the policy's victim and try again.
   * Ends because an empty cache has every page free.
   */
  #allocOrEvict(classId: ClassId): number {
    for (;;) {
      const ref = this.#slabs.alloc(classId);
      if (ref !== NIL) return ref;
      if (this.#slabs.hasReclaimable()) {
        this.#slabs.releasePage(this.#slabs.reclaimableClass(), this.#relocate);
        continue;
      }
      if (this.#v.metaU32[META_ITEMS] === 0) throw new Error('internal error: slab memory exhausted with no entry to evict');
      const reused = this.#evictOne(EvictionCause.Bytes, classId);
      if (reused !== NIL) return reused;
    }
  }

  /** After slabs moved a live chunk: its index slot and its list neighbours follow it. */
  readonly #relocate = (from: ChunkRef, to: ChunkRef): void => {
    const chunks = this.#chunks;
    const hash = hashBytes(this.#arena, chunks.keyStart(to), chunks.keyLen(to), this.#seed);
    this.#index.setRef(this.#index.slotOf(hash, from), to);
    this.#policy.onRelocate(from, to);
  };

  /* ---- dispose ---- */

  #queueDisposal(ref: number, reason: DisposeReason): void {
    this.#disposals.push(this.#storedValue(ref), this.#keyOf(ref), reason);
  }

  /** A set is about to replace the value in chunk `ref` with `value`: lru-cache disposes of it unless it is the same. */
  #queueReplaced(ref: number, value: Value): void {
    const old = this.#storedValue(ref);
    if (typeof old === 'string' ? old === value : false) return;
    this.#disposals.push(old, this.#keyOf(ref), 'set');
  }

  /** Calls `dispose` for the removals queued by the operation that just ended (outside the lock). */
  #runDisposals(): void {
    const queued = this.#disposals;
    this.#disposals = [];
    const dispose = this.#dispose!;
    for (let i = 0; i < queued.length; i += 3) {
      dispose(queued[i] as Stored, queued[i + 1] as Stored, queued[i + 2] as DisposeReason);
    }
  }

  /* ---- snapshot walk (walker.ts) and restore ---- */

  /** While a snapshot walk runs, notes a change to the entry in chunk `ref` for it (walkLog.ts). */
  #noteIfWalking(kind: typeof NOTE_TOMBSTONE | typeof NOTE_TOUCHED, ref: number): void {
    if (this.#v.metaU32[META_WALK_ACTIVE] === 0) return;
    const chunks = this.#chunks;
    this.#walkLog.note(kind, this.#arena, chunks.keyStart(ref), chunks.keyLen(ref));
  }

  /** @internal Starts a snapshot walk (walker.ts). Throws if one is already running on this cache. */
  beginWalk(): void {
    this.#exclusive(() => {
      this.#walker.begin();
      if (this.#optimistic) {
        // Lock-free hits must now leave bit changes to the locked path, which notes them for the walk.
        // The epoch's change stops reads already past their walk check; the wait lets those already
        // writing a bit finish, before the walk's first step reads any flags.
        this.#seqlock.touchAll();
        try {
          this.#seqlock.waitForHintWriters();
        } catch (error) {
          this.#walker.end();
          throw error;
        }
      }
    });
  }

  /** @internal One step of the walk: see Walker.step. Runs under the lock; the sink must not call the cache. */
  walkStep(max: number, sink: WalkSink): boolean {
    return this.#exclusive(() => this.#walker.step(max, sink));
  }

  /** @internal Ends a walk: takes the cursor out of the recency list. */
  endWalk(): void {
    this.#exclusive(() => this.#walker.end());
  }

  /**
   * @internal For snapshot loading: adds an entry as the least recent one
   * (the loader goes from the newest record back), without evicting anything.
   * Returns 'present' if the key is already held, 'full' if there is no room
   * (maxKeys, or no free chunk or page for its size), else 'stored'. The
   * caller has checked the lengths against the limits.
   */
  restoreEntry(
    key: Uint8Array,
    binaryKey: boolean,
    value: Uint8Array,
    text: boolean,
    ascii: boolean,
    expiresAt: number,
    version: number,
    meta: Uint8Array | undefined,
    visited: boolean,
  ): 'stored' | 'present' | 'full' {
    return this.#exclusive(() => {
      const v = this.#v;
      const keys = this.#keys;
      const keyLen = keys.prepareForWrite(key);
      if (this.#find() !== NOT_FOUND) return 'present';
      if (v.metaU32[META_ITEMS]! >= this.#maxKeys) return 'full';
      const valueLen = value.byteLength;
      if (this.#maxSize !== 0 && v.global[G_SIZE]! + keyLen + valueLen > this.#maxSize) return 'full';
      const flags =
        F_LIVE |
        (text ? F_TEXT : 0) |
        (text && ascii ? F_ASCII : 0) |
        (expiresAt !== 0 ? F_EXPIRES : 0) |
        (meta !== undefined ? F_META : 0) |
        (binaryKey ? F_BINARY_KEY : 0) |
        (visited ? F_VISITED : 0);
      const size = entrySize(flags, this.#versionBytes, keyLen, valueLen, meta === undefined ? -1 : meta.length);
      const classId = this.#classes.classFor(size);
      let ref = this.#slabs.alloc(classId);
      while (ref === NIL && this.#slabs.hasReclaimable()) {
        this.#slabs.releasePage(this.#slabs.reclaimableClass(), this.#relocate);
        ref = this.#slabs.alloc(classId);
      }
      if (ref === NIL) return 'full';
      this.#writeEntry(ref, flags, keyLen, value, valueLen, false, expiresAt, version, meta === undefined ? undefined : Buffer.from(meta));
      this.#index.insert(keys.hash, ref);
      this.#list.pushTail(ref);
      v.metaU32[META_ITEMS]++;
      if (expiresAt !== 0) v.metaU32[META_EXPIRING_ITEMS]++;
      v.global[G_BYTES] += size;
      v.global[G_SIZE] += keyLen + valueLen;
      v.classRequestedBytes[classId] += size;
      if (version > v.global[G_VERSION]!) v.global[G_VERSION] = version;
      return 'stored';
    });
  }

  /** @internal For snapshot loading: points SIEVE's hand at the entry with this key (if held), and raises the version counter. */
  restoreCursor(handKey: Uint8Array | undefined, lastVersion: number): void {
    this.#exclusive(() => {
      const v = this.#v;
      if (lastVersion > v.global[G_VERSION]!) v.global[G_VERSION] = lastVersion;
      if (handKey === undefined || this.#policy.reordersOnUse) return;
      if (this.#keys.prepare(handKey) < 0) return;
      const slot = this.#find();
      if (slot !== NOT_FOUND) v.metaU32[META_HAND] = this.#index.refAt(slot);
    });
  }

  /** Releases the lock, first publishing what this operation changed to lock-free readers. */
  #unlock(): void {
    if (this.#optimistic) this.#seqlock.publish();
    this.#lock.release();
  }

  /** Runs `fn` under the lock when the cache is shared, then the disposals it queued. */
  #exclusive<R>(fn: () => R): R {
    let result: R;
    if (!this.#locking) result = fn();
    else {
      this.#lock.acquire();
      try {
        result = fn();
      } finally {
        this.#unlock();
      }
    }
    if (this.#disposals.length !== 0) this.#runDisposals();
    return result;
  }

  /** @internal For tests and the invariant checker only: the raw state. */
  static unsafeInternals(cache: SlabLruCache): CacheInternals {
    return {
      views: cache.#v,
      geometry: cache.#geometry,
      classes: cache.#classes,
      index: cache.#index,
      slabs: cache.#slabs,
      chunks: cache.#chunks,
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
  readonly chunks: Chunks;
  readonly seed: number;
}

function checkVersion(version: unknown): void {
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) {
    throw new TypeError(`expected version must be a non-negative integer, got ${String(version)}`);
  }
}

/** The metadata's UTF-8 bytes; TypeError for a non-string, RangeError over 255 bytes. */
function checkMeta(meta: unknown): Buffer {
  if (typeof meta !== 'string') throw new TypeError(`meta must be a string, got ${describeType(meta)}`);
  const bytes = Buffer.from(meta, 'utf8');
  if (bytes.length > MAX_META_BYTES) throw new RangeError(`meta is ${bytes.length} bytes of UTF-8, over the limit of ${MAX_META_BYTES}`);
  return bytes;
}

function checkTtl(ttl: unknown): number {
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > Number.MAX_SAFE_INTEGER) {
    throw new TypeError(`ttl must be a non-negative integer number of milliseconds, got ${String(ttl)}`);
  }
  return ttl;
}
