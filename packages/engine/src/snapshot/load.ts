/**
 * Loading a snapshot: check all of it, then rebuild the cache from its newest
 * record back.
 *
 *   1. check (reader.ts): every byte the format lets us check, before any
 *      cache exists or changes. A truncated, bit-flipped, foreign or
 *      incompatible file is refused with a SnapshotError naming what is wrong
 *      and where.
 *   2. rebuild: read the blocks again from the last to the first (checked
 *      again: the file could have changed in between) and their records from
 *      the last to the first. The newest word on each key decides it:
 *        CLEAR       nothing older counts: stop
 *        HAND        SIEVE's hand points at this key
 *        TOMBSTONE   the key was gone at the snapshot's instant
 *        UPDATE      the key's final state, at the place of its older ENTRY
 *        ENTRY       the key's state and place, unless a newer word decided it
 *      Each entry that survives is added as the least recent so far, so the
 *      recency order (LRU) or queue order (SIEVE) comes out as it was, and
 *      superseded or deleted records never take room: a cache with the same
 *      options holds every entry the snapshot describes and evicts nothing
 *      (the loader checks the count against the trailer's). A smaller cache
 *      keeps the most recent entries that fit, up to the first that does not;
 *      the rest are counted as dropped. An entry whose TTL has passed is
 *      dropped too. If the rebuild fails after all, the cache is emptied
 *      before the error is thrown: never half-loaded.
 *
 * Keys decided by a tombstone or an update before their entry is reached are
 * remembered in JS sets (their count is what changed during the save, not the
 * cache size); keys already added are found in the cache itself.
 *
 * Version 1 files (a fuzzy stream of entries with no tombstones) load the same
 * way: the newest record of each key wins.
 */

import { performance } from 'node:perf_hooks';

import { SlabLruCache } from '../cache.js';
import { DEFAULT_OPTIONS, resolveOptions, type CacheOptions, type ResolvedOptions } from '../options.js';
import {
  E_ASCII,
  E_BINARY_KEY,
  E_EXPIRES,
  E_TEXT,
  E_VISITED,
  FORMAT_VERSION_1,
  KIND_CLEAR,
  KIND_HAND,
  KIND_TOMBSTONE,
  KIND_UPDATE,
  SnapshotError,
} from './format.js';
import { decodeRecord, newRecordView, scanSnapshot, SnapshotFile, type RecordView, type ScanResult, type SnapshotInfo } from './reader.js';

export type { SnapshotInfo } from './reader.js';

export interface LoadStats {
  readonly path: string;
  /** Records read from the file (entries, entries written again, updates, tombstones). */
  readonly records: number;
  /** Entries in the cache after the load. */
  readonly entries: number;
  /** Entries dropped because their TTL had passed. */
  readonly expired: number;
  /** Entries that did not fit a smaller cache (the least recent ones). */
  readonly dropped: number;
  /** Size of the snapshot file. */
  readonly bytes: number;
  /** When the snapshot was taken. */
  readonly createdAt: number;
  readonly durationMs: number;
}

export interface LoadedSnapshot {
  readonly cache: SlabLruCache;
  readonly stats: LoadStats;
}

export interface LoadProgress {
  /** `check`: the first pass over the file; `load`: the rebuild (blocks are read from the end). */
  readonly phase: 'check' | 'load';
  /** Bytes of the file done in this phase, and the file's size. */
  readonly bytes: number;
  readonly totalBytes: number;
  /** Entries in the cache so far (0 while checking). */
  readonly entries: number;
}

export interface LoadOptions {
  /** Called after each block of each phase (for progress reports). */
  onProgress?: (progress: LoadProgress) => void;
}

/** Checks the whole file (pass 1 only) and describes it. Throws SnapshotError if it is not a sound snapshot. */
export async function inspectSnapshot(file: string): Promise<SnapshotInfo> {
  const f = await SnapshotFile.open(file);
  try {
    return (await scanSnapshot(f)).info;
  } finally {
    await f.close();
  }
}

/**
 * Checks the snapshot at `file`, then builds a cache with `options` (default:
 * the options of the cache that was saved) and fills it. Throws SnapshotError
 * before any cache exists if the file is unsound or holds entries the options
 * cannot (TypeError for bad options, as the constructor).
 */
export async function loadSnapshot(file: string, options?: CacheOptions, loadOptions: LoadOptions = {}): Promise<LoadedSnapshot> {
  const started = performance.now();
  const f = await SnapshotFile.open(file);
  try {
    const scan = await scanSnapshot(f, progressOf(loadOptions, 'check', f.size));
    const resolved = options === undefined ? sourceCacheOptions(scan.info) : resolveOptions(options);
    checkFits(scan.info, resolved);
    const cache = new SlabLruCache({ ...resolved, ...(options === undefined ? {} : callbacksOf(options)) });
    const stats = await rebuild(cache, f, scan, started, loadOptions);
    return { cache, stats };
  } finally {
    await f.close();
  }
}

/**
 * Checks the snapshot at `file`, then fills `cache` (which must be empty)
 * from it. Throws SnapshotError and leaves the cache empty if the file is
 * unsound or does not fit the cache's limits.
 */
export async function restoreSnapshot(cache: SlabLruCache, file: string, loadOptions: LoadOptions = {}): Promise<LoadStats> {
  const started = performance.now();
  if (cache.size !== 0) {
    throw new SnapshotError('ERR_SNAPSHOT_NOT_EMPTY', file, -1, `the target cache already holds ${cache.size} entries`);
  }
  const f = await SnapshotFile.open(file);
  try {
    const scan = await scanSnapshot(f, progressOf(loadOptions, 'check', f.size));
    checkFits(scan.info, cache.options);
    return await rebuild(cache, f, scan, started, loadOptions);
  } finally {
    await f.close();
  }
}

function progressOf(options: LoadOptions, phase: 'check', totalBytes: number): ((bytes: number) => void) | undefined {
  const report = options.onProgress;
  return report === undefined ? undefined : (bytes) => report({ phase, bytes, totalBytes, entries: 0 });
}

function callbacksOf(options: CacheOptions): CacheOptions {
  const out: CacheOptions = {};
  if (options.dispose !== undefined) out.dispose = options.dispose;
  if (options.fetchMethod !== undefined) out.fetchMethod = options.fetchMethod;
  return out;
}

/** Pass 2: the newest-first rebuild; on any failure empties the cache and rethrows. */
async function rebuild(cache: SlabLruCache, f: SnapshotFile, scan: ScanResult, started: number, options: LoadOptions): Promise<LoadStats> {
  const { info, blocks } = scan;
  const replay = new Rebuild(cache, info.formatVersion);
  try {
    let bytesDone = 0;
    for (let b = blocks.length - 1; b >= 0 && !replay.cleared; b--) {
      const place = blocks[b]!;
      const payload = await f.readBlock(place, b, true);
      replay.block(payload, place.payloadBytes, place.records);
      bytesDone += place.payloadBytes;
      options.onProgress?.({ phase: 'load', bytes: bytesDone, totalBytes: info.payloadBytes, entries: cache.size });
    }
    cache.restoreCursor(replay.hand, info.lastVersion);
    if (info.entries >= 0 && replay.expired === 0 && replay.dropped === 0 && cache.size !== info.entries) {
      throw new SnapshotError(
        'ERR_SNAPSHOT_CORRUPT',
        info.path,
        -1,
        `it rebuilt ${cache.size} entries, but the cache held ${info.entries} when it was saved`,
      );
    }
  } catch (error) {
    cache.clear();
    cache.resetCounters();
    throw error;
  }
  // The rebuild's own work is not counted: a restored cache counts from zero.
  cache.resetCounters();
  return {
    path: info.path,
    records: info.records,
    entries: cache.size,
    expired: replay.expired,
    dropped: replay.dropped,
    bytes: info.fileBytes,
    createdAt: info.createdAt,
    durationMs: performance.now() - started,
  };
}

/** The state of a rebuild, fed one block at a time from the last. */
class Rebuild {
  /** Keys a tombstone decided (gone), or whose record expired: older records of theirs do not count. */
  readonly #gone = new Set<string>();
  /** Keys whose final state an UPDATE gave, waiting for their ENTRY (the place): a copy of the update's fields. */
  readonly #updates = new Map<string, PendingUpdate>();
  /** After the cache filled up: keys already counted as dropped. */
  #droppedKeys: Set<string> | undefined;
  readonly #r: RecordView = newRecordView();
  /** Record starts of the block being replayed (grown as needed). */
  #starts = new Int32Array(4096);
  readonly #now = Date.now();
  cleared = false;
  hand: Buffer | undefined;
  #handSeen = false;
  expired = 0;
  dropped = 0;

  constructor(
    readonly cache: SlabLruCache,
    readonly version: number,
  ) {}

  /** Replays one block's records, newest first. */
  block(payload: Buffer, payloadBytes: number, records: number): void {
    if (this.#starts.length < records) this.#starts = new Int32Array(records);
    const starts = this.#starts;
    const r = this.#r;
    for (let n = 0, at = 0; n < records; n++) {
      starts[n] = at;
      const problem = decodeRecord(payload, at, payloadBytes, this.version, r);
      // scanSnapshot checked every record, and readBlock the checksum: a problem here means a bug.
      if (problem !== undefined) throw new Error(`internal error: a checked record ${problem}`);
      at = r.end;
    }
    for (let n = records - 1; n >= 0; n--) {
      decodeRecord(payload, starts[n]!, payloadBytes, this.version, r);
      if (r.kind === KIND_CLEAR) {
        this.cleared = true;
        return;
      }
      this.#record(payload, r);
    }
  }

  #record(payload: Buffer, r: RecordView): void {
    const keyStart = r.keyStart;
    const keyEnd = keyStart + r.keyLength;
    if (r.kind === KIND_HAND) {
      if (!this.#handSeen) this.hand = Buffer.from(payload.subarray(keyStart, keyEnd));
      this.#handSeen = true;
      return;
    }
    const id = payload.toString('latin1', keyStart, keyEnd);
    if (this.#gone.has(id) || this.#droppedKeys?.has(id)) return;
    const key = payload.subarray(keyStart, keyEnd);
    if (r.kind === KIND_TOMBSTONE) {
      if (!this.#updates.has(id) && !this.cache.has(key)) this.#gone.add(id);
      return;
    }
    if (r.kind === KIND_UPDATE) {
      if (!this.#updates.has(id) && !this.cache.has(key)) this.#updates.set(id, pendingUpdate(payload, r));
      return;
    }
    // KIND_ENTRY: its place; its state, unless an update came later.
    const update = this.#updates.get(id);
    if (update !== undefined) this.#updates.delete(id);
    const flags = update?.flags ?? r.flags;
    const expiresAt = update?.expiresAt ?? r.expiresAt;
    if ((flags & E_EXPIRES) !== 0 && expiresAt <= this.#now) {
      this.expired++;
      this.#gone.add(id);
      return;
    }
    if (this.#droppedKeys !== undefined) {
      if (!this.cache.has(key)) this.#drop(id);
      return;
    }
    const value = update?.value ?? payload.subarray(r.valueStart, r.valueStart + r.valueLength);
    const meta = update !== undefined ? update.meta : r.metaStart < 0 ? undefined : payload.subarray(r.metaStart, r.metaStart + r.metaLength);
    // Version 1 keys were strings and values bytes; later files say.
    const binaryKey = this.version !== FORMAT_VERSION_1 && (flags & E_BINARY_KEY) !== 0;
    const outcome = this.cache.restoreEntry(
      key,
      binaryKey,
      value,
      (flags & E_TEXT) !== 0,
      (flags & E_ASCII) !== 0,
      (flags & E_EXPIRES) !== 0 ? expiresAt : 0,
      update?.version ?? r.version,
      meta,
      (flags & E_VISITED) !== 0,
    );
    if (outcome === 'full') {
      // The most recent entries are in; from here everything older is dropped.
      this.#droppedKeys = new Set();
      this.#drop(id);
    }
  }

  #drop(id: string): void {
    if (this.#droppedKeys!.has(id)) return;
    this.#droppedKeys!.add(id);
    this.dropped++;
  }
}

interface PendingUpdate {
  readonly flags: number;
  readonly expiresAt: number;
  readonly version: number;
  readonly value: Buffer;
  readonly meta: Buffer | undefined;
}

function pendingUpdate(payload: Buffer, r: RecordView): PendingUpdate {
  return {
    flags: r.flags,
    expiresAt: r.expiresAt,
    version: r.version,
    value: Buffer.from(payload.subarray(r.valueStart, r.valueStart + r.valueLength)),
    meta: r.metaStart < 0 ? undefined : Buffer.from(payload.subarray(r.metaStart, r.metaStart + r.metaLength)),
  };
}

/** Refuses a snapshot whose longest key or value the target cache could not store. */
function checkFits(info: SnapshotInfo, options: ResolvedOptions): void {
  if (info.maxKeyLength > options.maxKeyBytes) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_INCOMPATIBLE',
      info.path,
      -1,
      `it holds a key of ${info.maxKeyLength} bytes, over this cache's maxKeyBytes of ${options.maxKeyBytes}`,
    );
  }
  if (info.maxValueLength > options.maxValueBytes) {
    throw new SnapshotError(
      'ERR_SNAPSHOT_INCOMPATIBLE',
      info.path,
      -1,
      `it holds a value of ${info.maxValueLength} bytes, over this cache's maxValueBytes of ${options.maxValueBytes}`,
    );
  }
}

/** The saved cache's options, as far as this build knows them. */
function sourceCacheOptions(info: SnapshotInfo): ResolvedOptions {
  const known: Record<string, unknown> = {};
  for (const name of Object.keys(DEFAULT_OPTIONS) as (keyof ResolvedOptions)[]) {
    const value = info.sourceOptions[name];
    if (value !== undefined) known[name] = value;
  }
  try {
    return resolveOptions(known as CacheOptions);
  } catch (error) {
    throw new SnapshotError('ERR_SNAPSHOT_INCOMPATIBLE', info.path, -1, `its cache options are not valid here: ${(error as Error).message}`);
  }
}

