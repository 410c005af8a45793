/**
 * Cache options: their documentation, their defaults, and the one place they are
 * validated. A cache validates its options once, in its constructor; every bad
 * option throws a `TypeError` whose message names the option, so a misconfigured
 * cache never exists.
 *
 * The resolved form (`ResolvedOptions`) is plain data: it travels with a cache
 * handle to other threads, so every derived layout decision (page size, size
 * classes, index capacity) is a pure function of it.
 */

import type { Key, Value } from './keys.js';
import type { PolicyName } from './policy.js';

export const KIB = 1024;
export const MIB = 1024 * KIB;
export const GIB = 1024 * MIB;

/** Options accepted by `new SlabLruCache(options)`. Every field is optional. */
export interface CacheOptions {
  /**
   * Most entries the cache holds; inserting past it evicts the least recently
   * used entry. Sizes the entry table (16 B per key) and the hash index (about
   * 6.7 B per key at the default). Default 5,000,000.
   */
  maxKeys?: number;
  /** lru-cache's name for `maxKeys`; give one or the other (or both, equal). */
  max?: number;
  /**
   * Bytes of slab memory for keys, values and their 8-byte headers, rounded down
   * to whole pages. Reserved up front as one SharedArrayBuffer but touched (and
   * so resident) only as pages are used. Default 1.5 GiB (1,610,612,736).
   */
  maxBytes?: number;
  /**
   * Most key + value bytes the entries may hold together (UTF-8 for strings),
   * as lru-cache's `maxSize` with a `sizeCalculation` of key plus value bytes;
   * a set that would pass it first evicts the policy's victims. 0 (the
   * default) means no such bound. Slab memory (`maxBytes`) still binds as
   * well: entries take more of it than their key and value bytes (a header,
   * and rounding up to a size class), so give `maxBytes` room above
   * `maxSize` (BENCHMARKS.md measures how much). At least maxKeyBytes +
   * maxValueBytes, so that any entry the limits allow fits; at most maxBytes.
   */
  maxSize?: number;
  /** Longest key, in UTF-8 bytes. Default 1 KiB (1,024). At most 65,535. */
  maxKeyBytes?: number;
  /** Longest value, in bytes (UTF-8 for strings). Default 1 MiB (1,048,576). */
  maxValueBytes?: number;
  /**
   * Default time to live in milliseconds for entries set without their own
   * `ttl`; 0 means entries do not expire. Default 0.
   */
  ttl?: number;
  /**
   * Ratio between successive slab size classes (memcached's `-f`); classes are
   * also at least 4 bytes apart. Smaller factors waste less memory per entry
   * and make more classes. Default 1.0625; allowed 1.05 to 2.
   */
  growthFactor?: number;
  /**
   * Slab page size in bytes. Pages move between size classes as the workload
   * changes. Raised automatically so that one page holds the largest entry the
   * key and value limits allow. Default 1 MiB (1,048,576), at least 4 KiB.
   */
  pageBytes?: number;
  /**
   * Longest wait, in ms, for the lock of a cache shared between threads before
   * an operation fails with LockTimeoutError (a thread may have died holding
   * it). Default 5,000.
   */
  lockTimeoutMs?: number;
  /**
   * Which entry leaves when the cache needs room: `'lru'` (exact least
   * recently used, as lru-cache; the default) or `'sieve'` (SIEVE: a FIFO
   * queue with a visited bit; a hit only sets the bit). See policy.ts.
   */
  policy?: PolicyName;
  /**
   * Give every entry a version, a number that grows with every set (for
   * compare-and-set and HTTP ETags): 8 bytes more per entry. Default false.
   */
  versions?: boolean;
  /**
   * Called after an entry left the cache or its value was replaced, as
   * `dispose(value, key, reason)` — lru-cache's `disposeAfter`. Runs in the
   * thread whose operation removed the entry, once the operation is complete
   * (so it may use the cache). Values and keys come back as they were set
   * (string, or Buffer for bytes). Costs nothing when not given.
   */
  dispose?: Disposer;
  /** Loads a missing value for `fetch()` (lru-cache's `fetchMethod`); see fetch.ts. */
  fetchMethod?: FetchMethod;
}

/** Why an entry left (lru-cache's names): evicted for room, replaced by a set, deleted (or cleared), expired. */
export type DisposeReason = 'evict' | 'set' | 'delete' | 'expire';
export type Disposer = (value: string | Buffer, key: string | Buffer, reason: DisposeReason) => void;

export interface FetcherOptions {
  /** Aborted when every caller waiting for this load has given up. */
  readonly signal: AbortSignal;
  /** The `context` of the fetch() call that started the load. */
  readonly context: unknown;
}
/** Resolves with the value to cache, or undefined to cache nothing. */
export type FetchMethod = (key: Key, staleValue: undefined, options: FetcherOptions) => Promise<Value | undefined> | Value | undefined;

/** The function-valued options: kept by each cache instance, never part of a (cloneable) handle. */
export interface CacheCallbacks {
  readonly dispose: Disposer | undefined;
  readonly fetchMethod: FetchMethod | undefined;
}

/** Options after defaults and derivations: what a cache (or a handle) is built from. */
export interface ResolvedOptions {
  readonly maxKeys: number;
  readonly maxBytes: number;
  readonly maxSize: number;
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  readonly ttl: number;
  readonly growthFactor: number;
  readonly pageBytes: number;
  readonly lockTimeoutMs: number;
  readonly policy: PolicyName;
  readonly versions: boolean;
}

export const DEFAULT_OPTIONS: ResolvedOptions = Object.freeze({
  maxKeys: 5_000_000,
  maxBytes: 1.5 * GIB,
  maxSize: 0,
  maxKeyBytes: KIB,
  maxValueBytes: MIB,
  ttl: 0,
  growthFactor: 1.0625,
  pageBytes: MIB,
  lockTimeoutMs: 5000,
  policy: 'lru',
  versions: false,
});

/** Most bytes of header an entry can have before its key: wide header + expiry + version (chunk.ts). */
export const MAX_CHUNK_HEADER = 36;
/** Ids and counts are u32 with one value reserved for NIL; the index packs ids in 28 bits or fewer. */
export const MAX_MAX_KEYS = 2 ** 28 - 1;
/** A single typed-array view cannot exceed 4 GiB on Node 20 (buffer.constants.MAX_LENGTH). */
export const MAX_MAX_BYTES = 4 * GIB - 64 * KIB;
export const MAX_KEY_BYTES_LIMIT = 0xfffe;
const MIN_PAGE_BYTES = 4 * KIB;
const PAGE_ROUNDING = 4 * KIB;

function checkInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(
      `${name} option must be an integer from ${min} to ${max}, got ${describe(value)}`,
    );
  }
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  return typeof value;
}

const CALLBACK_OPTIONS = ['dispose', 'fetchMethod'] as const;
const KNOWN_OPTIONS = new Set([...Object.keys(DEFAULT_OPTIONS), 'max', ...CALLBACK_OPTIONS]);

/** The function-valued options, checked. TypeError naming one that is not a function. */
export function resolveCallbacks(options: CacheOptions = {}): CacheCallbacks {
  for (const name of CALLBACK_OPTIONS) {
    const value = options[name];
    if (value !== undefined && typeof value !== 'function') throw new TypeError(`${name} option must be a function, got ${describe(value)}`);
  }
  return { dispose: options.dispose, fetchMethod: options.fetchMethod };
}
const POLICIES: readonly PolicyName[] = ['lru', 'sieve'];

/**
 * Applies defaults, validates every option and derives the page size.
 * Throws `TypeError` naming the first bad option.
 */
export function resolveOptions(options: CacheOptions = {}): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  }
  for (const name of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(name)) throw new TypeError(`unknown option ${JSON.stringify(name)}`);
  }
  const pick = <K extends keyof ResolvedOptions>(name: K): ResolvedOptions[K] =>
    (options[name] === undefined ? DEFAULT_OPTIONS[name] : options[name]) as ResolvedOptions[K];

  if (options.max !== undefined && options.maxKeys !== undefined && options.max !== options.maxKeys) {
    throw new TypeError(`max (${describe(options.max)}) and maxKeys (${describe(options.maxKeys)}) are the same option; give one`);
  }
  const maxKeys =
    options.max !== undefined && options.maxKeys === undefined
      ? checkInteger('max', options.max, 1, MAX_MAX_KEYS)
      : checkInteger('maxKeys', pick('maxKeys'), 1, MAX_MAX_KEYS);
  const maxKeyBytes = checkInteger('maxKeyBytes', pick('maxKeyBytes'), 1, MAX_KEY_BYTES_LIMIT);
  const maxValueBytes = checkInteger('maxValueBytes', pick('maxValueBytes'), 0, MAX_MAX_BYTES);
  const ttl = checkInteger('ttl', pick('ttl'), 0, Number.MAX_SAFE_INTEGER);
  const growthFactor = pick('growthFactor');
  if (typeof growthFactor !== 'number' || !(growthFactor >= 1.05 && growthFactor <= 2)) {
    throw new TypeError(`growthFactor option must be a number from 1.05 to 2, got ${describe(growthFactor)}`);
  }
  const requestedPage = checkInteger('pageBytes', pick('pageBytes'), MIN_PAGE_BYTES, MAX_MAX_BYTES);
  // The 256 covers the metadata bytes an entry may carry (1 length byte + up to 255).
  const largestEntry = MAX_CHUNK_HEADER + maxKeyBytes + maxValueBytes + 256;
  // A page must hold the largest entry the limits allow: entries are never split across pages.
  const pageBytes = roundUp(Math.max(requestedPage, largestEntry), PAGE_ROUNDING);
  const maxBytes = checkInteger('maxBytes', pick('maxBytes'), 1, MAX_MAX_BYTES);
  if (maxBytes < pageBytes) {
    throw new TypeError(
      `maxBytes option (${maxBytes}) must hold at least one slab page of ${pageBytes} bytes; ` +
        `raise maxBytes or lower maxValueBytes/maxKeyBytes/pageBytes`,
    );
  }
  const maxSize = checkMaxSize(pick('maxSize'), maxKeyBytes + maxValueBytes, maxBytes);
  const lockTimeoutMs = checkInteger('lockTimeoutMs', pick('lockTimeoutMs'), 1, 2 ** 31 - 1);
  const policy = pick('policy');
  if (!POLICIES.includes(policy)) {
    throw new TypeError(`policy option must be one of ${POLICIES.map((p) => JSON.stringify(p)).join(', ')}, got ${describe(policy)}`);
  }
  const versions = pick('versions');
  if (typeof versions !== 'boolean') throw new TypeError(`versions option must be a boolean, got ${describe(versions)}`);
  return Object.freeze({ maxKeys, maxBytes, maxSize, maxKeyBytes, maxValueBytes, ttl, growthFactor, pageBytes, lockTimeoutMs, policy, versions });
}

/** 0, or a bound that the largest entry fits under and that can bind before slab memory runs out. */
function checkMaxSize(value: unknown, largestEntry: number, maxBytes: number): number {
  const maxSize = checkInteger('maxSize', value, 0, Number.MAX_SAFE_INTEGER);
  if (maxSize === 0) return 0;
  if (maxSize < largestEntry) {
    throw new TypeError(
      `maxSize option (${maxSize}) must be at least maxKeyBytes + maxValueBytes (${largestEntry}), ` +
        `so that every entry the limits allow fits; raise maxSize or lower the limits`,
    );
  }
  if (maxSize > maxBytes) {
    throw new TypeError(
      `maxSize option (${maxSize}) is above maxBytes (${maxBytes}) and could never bind: an entry takes ` +
        `more slab memory than its key and value bytes; raise maxBytes or lower maxSize`,
    );
  }
  return maxSize;
}

function roundUp(n: number, multiple: number): number {
  return Math.ceil(n / multiple) * multiple;
}
