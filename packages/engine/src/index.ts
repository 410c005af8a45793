/**
 * @slabcache/engine: an LRU cache whose entries live off the JS heap, in
 * SharedArrayBuffer slabs. See README.md.
 */

export {
  SlabLruCache,
  type CacheEntry,
  type GetEntryOptions,
  type SetOptions,
  type Stored,
} from './cache.js';
export type { FetchOptions, FetchTarget } from './fetch.js';
export type { PolicyName } from './policy.js';
export { LockTimeoutError } from './lock.js';
export { CacheLimitError, entriesStoredBefore, type CacheErrorCode, type LimitName, type SetManyProgress } from './errors.js';
export type { Key, Value } from './keys.js';
export type { CacheHandle } from './layout.js';
export {
  DEFAULT_OPTIONS,
  type CacheOptions,
  type DisposeReason,
  type Disposer,
  type FetchMethod,
  type FetcherOptions,
  type ResolvedOptions,
} from './options.js';
export type { CacheStats, SizeClassStats } from './stats.js';
export { checkInvariants } from './invariants.js';
export {
  saveSnapshot,
  inspectSnapshot,
  loadSnapshot,
  restoreSnapshot,
  SNAPSHOT_FORMAT_VERSION,
  SnapshotError,
  type SnapshotErrorCode,
  type SaveOptions,
  type SaveStats,
  type LoadedSnapshot,
  type LoadOptions,
  type LoadProgress,
  type LoadStats,
  type SnapshotInfo,
} from './snapshot/index.js';
