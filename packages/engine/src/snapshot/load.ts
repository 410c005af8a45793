/**
 * Reading a snapshot: validate all of it, then replay it.
 *
 * Loading takes two passes over the file with the same strict reader:
 *   1. validate: magic, version, header checksum, every block's tag, length,
 *      checksum and record structure, the chained block checksum and the
 *      trailer's totals. Nothing is created or changed yet, so a truncated,
 *      bit-flipped, foreign or incompatible file is refused with a
 *      SnapshotError naming what is wrong and where.
 *   2. replay: read the file again, checking everything again (it could have
 *      changed in between), and `set` each record in file order, least
 *      recently used first, so the LRU order survives. A record whose expiry
 *      has passed is dropped (and removes an earlier record of its key). If
 *      this pass fails after all, the cache is emptied before the error is
 *      thrown: never half-loaded.
 *
 * Replaying through `set` makes the target cache's own options rule: a cache
 * with other maxKeys, maxBytes, page size or growth factor is rebuilt
 * correctly, and a smaller one keeps the most recently used entries (the
 * older ones are evicted as the newer ones arrive). Only a snapshot holding a
 * key or value longer than the target's maxKeyBytes/maxValueBytes is refused
 * (ERR_SNAPSHOT_INCOMPATIBLE), before anything is loaded.
 *
 * Two passes cost a second read of the file (from the page cache, at memory
 * speed) and keep memory bounded: the file is never held whole.
 */

import { open, type FileHandle } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { crc32 } from 'node:zlib';

import { SlabLruCache, type WalkVisitor } from '../cache.js';
import { DEFAULT_OPTIONS, resolveOptions, type CacheOptions, type ResolvedOptions } from '../options.js';
import {
  B_PAYLOAD_BYTES,
  B_RECORDS,
  B_CRC,
  BLOCK_HEAD_BYTES,
  BLOCK_TAG,
  blockCrc,
  chainBlock,
  decodeTrailer,
  FORMAT_VERSION,
  H_CREATED_AT,
  H_HEADER_BYTES,
  H_OPTIONS,
  H_OPTIONS_LENGTH,
  H_VERSION,
  HEADER_FIXED_BYTES,
  MAGIC,
  MAX_OPTIONS_JSON_BYTES,
  R_EXPIRES_AT,
  R_FLAGS,
  R_KEY_LENGTH,
  R_VALUE_LENGTH,
  RECORD_BINARY_KEY,
  RECORD_EXPIRES,
  RECORD_FIXED_BYTES,
  RECORD_KNOWN_FLAGS,
  RECORD_TEXT,
  SIZEOF_CRC,
  SIZEOF_EXPIRES_AT,
  SnapshotError,
  T_CRC,
  T_TRAILER_BYTES,
  TRAILER_BYTES,
  TRAILER_TAG,
  type SnapshotErrorCode,
} from './format.js';

/** What a valid snapshot holds, from its header and trailer (checked against its blocks). */
export interface SnapshotInfo {
  readonly path: string;
  readonly formatVersion: number;
  /** When the save began / ended, ms since the Unix epoch. */
  readonly createdAt: number;
  readonly finishedAt: number;
  /** Options of the cache that was saved. */
  readonly sourceOptions: Partial<ResolvedOptions>;
  readonly records: number;
  readonly blocks: number;
  readonly payloadBytes: number;
  readonly fileBytes: number;
  readonly maxKeyLength: number;
  readonly maxValueLength: number;
}

export interface LoadStats {
  readonly path: string;
  /** Records read from the file (an entry saved twice counts twice). */
  readonly records: number;
  /** Entries in the cache after the load. */
  readonly entries: number;
  /** Records dropped because their TTL had passed. */
  readonly expired: number;
  /** Entries evicted during the load because the target cache is smaller. */
  readonly evicted: number;
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

/**
 * Receives one record: its key and value as ranges of a buffer, and its expiry
 * (0 = none) — the same shape as the walk that wrote it.
 */
type RecordSink = WalkVisitor;

/** Validates the whole file (pass 1 only) and describes it. Throws SnapshotError if it is not a sound snapshot. */
export function inspectSnapshot(file: string): Promise<SnapshotInfo> {
  return readSnapshot(file, undefined);
}

/**
 * Validates the snapshot at `file`, then builds a cache with `options`
 * (default: the options of the cache that was saved) and fills it. Throws
 * SnapshotError before any cache exists if the file is unsound or holds
 * entries the options cannot (TypeError for bad options, as the constructor).
 */
export async function loadSnapshot(file: string, options?: CacheOptions): Promise<LoadedSnapshot> {
  const started = performance.now();
  const info = await inspectSnapshot(file);
  const resolved = options === undefined ? sourceCacheOptions(info) : resolveOptions(options);
  checkFits(info, resolved);
  const cache = new SlabLruCache(resolved);
  const stats = await replay(cache, info, started);
  return { cache, stats };
}

/**
 * Validates the snapshot at `file`, then fills `cache` (which must be empty)
 * from it. Throws SnapshotError and leaves the cache empty if the file is
 * unsound or does not fit the cache's limits.
 */
export async function restoreSnapshot(cache: SlabLruCache, file: string): Promise<LoadStats> {
  const started = performance.now();
  if (cache.size !== 0) {
    throw new SnapshotError('ERR_SNAPSHOT_NOT_EMPTY', file, -1, `the target cache already holds ${cache.size} entries`);
  }
  const info = await inspectSnapshot(file);
  checkFits(info, cache.options);
  return replay(cache, info, started);
}

/** Pass 2: sets every record in file order; on any failure empties the cache and rethrows. */
async function replay(cache: SlabLruCache, info: SnapshotInfo, started: number): Promise<LoadStats> {
  const evictionsBefore = cache.stats().evictions;
  let expired = 0;
  const noTtl = { ttl: 0 };
  const sink: RecordSink = (buffer, keyStart, keyLength, valueStart, valueLength, expiresAt, binaryKey, text) => {
    // A string's bytes are valid UTF-8 (the cache encoded them), so decoding gives back the very same string.
    const key = binaryKey ? buffer.subarray(keyStart, keyStart + keyLength) : buffer.toString('utf8', keyStart, keyStart + keyLength);
    const value = text ? buffer.toString('utf8', valueStart, valueStart + valueLength) : buffer.subarray(valueStart, valueStart + valueLength);
    if (expiresAt === 0) {
      cache.set(key, value, noTtl);
      return;
    }
    const remaining = Math.ceil(expiresAt - Date.now());
    if (remaining <= 0) {
      expired++;
      // A later record wins, even one that has expired: an earlier record of this key must not survive it.
      cache.delete(key);
      return;
    }
    cache.set(key, value, { ttl: remaining });
  };
  let read: SnapshotInfo;
  try {
    read = await readSnapshot(info.path, sink);
  } catch (error) {
    cache.clear();
    cache.resetCounters();
    throw error;
  }
  const evicted = cache.stats().evictions - evictionsBefore;
  cache.resetCounters();
  return {
    path: info.path,
    records: read.records,
    entries: cache.size,
    expired,
    evicted,
    bytes: read.fileBytes,
    createdAt: read.createdAt,
    durationMs: performance.now() - started,
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

/* ---- the reader ---- */

/**
 * Reads and checks the whole file, block by block; with a sink, hands it
 * every record as it goes. Returns the description of a sound file, or throws
 * SnapshotError at the first problem.
 */
async function readSnapshot(file: string, sink: RecordSink | undefined): Promise<SnapshotInfo> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SnapshotError('ERR_SNAPSHOT_MISSING', file, -1, 'no such file');
    throw error;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new SnapshotError('ERR_SNAPSHOT_FOREIGN', file, -1, 'not a regular file');
    const reader = new WindowReader(handle, stat.size, file);
    const fail = (code: SnapshotErrorCode, offset: number, detail: string): never => {
      throw new SnapshotError(code, file, offset, detail);
    };
    const size = stat.size;

    /* header */
    const head = await reader.read(0, Math.min(size, HEADER_FIXED_BYTES));
    const magicSeen = head.subarray(0, Math.min(size, MAGIC.length));
    if (!MAGIC.subarray(0, magicSeen.length).equals(magicSeen)) {
      fail('ERR_SNAPSHOT_FOREIGN', 0, 'not a slabcache snapshot (its first bytes are not "SLABSNAP")');
    }
    if (size < HEADER_FIXED_BYTES) fail('ERR_SNAPSHOT_TRUNCATED', size, `the file is ${size} bytes, shorter than a snapshot header`);
    const version = head.readUInt32LE(H_VERSION);
    if (version !== FORMAT_VERSION) {
      fail('ERR_SNAPSHOT_VERSION', H_VERSION, `format version ${version}; this build reads version ${FORMAT_VERSION} only`);
    }
    const headerBytes = head.readUInt32LE(H_HEADER_BYTES);
    const optionsLength = head.readUInt32LE(H_OPTIONS_LENGTH);
    const createdAt = head.readDoubleLE(H_CREATED_AT);
    if (optionsLength > MAX_OPTIONS_JSON_BYTES || headerBytes !== HEADER_FIXED_BYTES + optionsLength + SIZEOF_CRC) {
      fail('ERR_SNAPSHOT_CORRUPT', H_HEADER_BYTES, `header length fields disagree (${headerBytes} bytes with ${optionsLength} bytes of options)`);
    }
    if (headerBytes > size) fail('ERR_SNAPSHOT_TRUNCATED', size, `the file ends inside its ${headerBytes}-byte header`);
    const header = await reader.read(0, headerBytes);
    if (crc32(header.subarray(0, headerBytes - SIZEOF_CRC)) !== header.readUInt32LE(headerBytes - SIZEOF_CRC)) {
      fail('ERR_SNAPSHOT_CORRUPT', headerBytes - SIZEOF_CRC, 'header checksum mismatch');
    }
    let sourceOptions: Partial<ResolvedOptions>;
    try {
      sourceOptions = JSON.parse(header.toString('utf8', H_OPTIONS, H_OPTIONS + optionsLength)) as Partial<ResolvedOptions>;
    } catch {
      sourceOptions = fail('ERR_SNAPSHOT_CORRUPT', H_OPTIONS, 'the header options are not JSON');
    }
    if (sourceOptions === null || typeof sourceOptions !== 'object') fail('ERR_SNAPSHOT_CORRUPT', H_OPTIONS, 'the header options are not an object');

    /* blocks */
    let offset = headerBytes;
    let blocks = 0;
    let records = 0;
    let payloadTotal = 0;
    let chain = 0;
    let maxKeyLength = 0;
    let maxValueLength = 0;
    for (;;) {
      if (offset + 4 > size) {
        fail('ERR_SNAPSHOT_TRUNCATED', offset, `the file ends after ${blocks} blocks without its trailer (an unfinished save?)`);
      }
      const tag = (await reader.read(offset, 4)).readUInt32LE(0);
      if (tag === TRAILER_TAG) break;
      if (tag !== BLOCK_TAG) fail('ERR_SNAPSHOT_CORRUPT', offset, `expected block ${blocks} or the trailer, found neither`);
      if (offset + BLOCK_HEAD_BYTES > size) fail('ERR_SNAPSHOT_TRUNCATED', offset, `the file ends inside the head of block ${blocks}`);
      const blockHead = Buffer.from(await reader.read(offset, BLOCK_HEAD_BYTES));
      const payloadBytes = blockHead.readUInt32LE(B_PAYLOAD_BYTES);
      const blockRecords = blockHead.readUInt32LE(B_RECORDS);
      const payloadStart = offset + BLOCK_HEAD_BYTES;
      if (payloadStart + payloadBytes > size) {
        fail('ERR_SNAPSHOT_TRUNCATED', offset, `block ${blocks} claims ${payloadBytes} bytes but the file ends ${size - payloadStart} bytes after its head`);
      }
      const payload = await reader.read(payloadStart, payloadBytes);
      if (blockCrc(blockHead, payload, 0, payloadBytes) !== blockHead.readUInt32LE(B_CRC)) {
        fail('ERR_SNAPSHOT_CORRUPT', offset, `block ${blocks} checksum mismatch`);
      }
      const problem = walkRecords(payload, payloadBytes, blockRecords, sink, (keyLength, valueLength) => {
        if (keyLength > maxKeyLength) maxKeyLength = keyLength;
        if (valueLength > maxValueLength) maxValueLength = valueLength;
      });
      if (problem !== undefined) fail('ERR_SNAPSHOT_CORRUPT', payloadStart + problem.at, `block ${blocks}: ${problem.what}`);
      chain = chainBlock(chain, blockHead);
      records += blockRecords;
      payloadTotal += payloadBytes;
      blocks++;
      offset = payloadStart + payloadBytes;
    }

    /* trailer */
    if (offset + TRAILER_BYTES > size) fail('ERR_SNAPSHOT_TRUNCATED', offset, 'the file ends inside its trailer');
    const trailer = Buffer.from(await reader.read(offset, TRAILER_BYTES));
    if (trailer.readUInt32LE(T_TRAILER_BYTES) !== TRAILER_BYTES || crc32(trailer.subarray(0, T_CRC)) !== trailer.readUInt32LE(T_CRC)) {
      fail('ERR_SNAPSHOT_CORRUPT', offset, 'trailer checksum mismatch');
    }
    const totals = decodeTrailer(trailer);
    if (totals.chainCrc !== chain >>> 0) fail('ERR_SNAPSHOT_CORRUPT', offset, 'the blocks are not the ones the trailer was written for (chained checksum mismatch)');
    if (totals.records !== records || totals.blocks !== blocks || totals.payloadBytes !== payloadTotal) {
      fail('ERR_SNAPSHOT_CORRUPT', offset, `trailer totals (${totals.records} records in ${totals.blocks} blocks) disagree with the file (${records} in ${blocks})`);
    }
    if (totals.maxKeyLength !== maxKeyLength || totals.maxValueLength !== maxValueLength) {
      fail('ERR_SNAPSHOT_CORRUPT', offset, 'trailer key/value maxima disagree with the records');
    }
    if (offset + TRAILER_BYTES !== size) {
      fail('ERR_SNAPSHOT_CORRUPT', offset + TRAILER_BYTES, `${size - offset - TRAILER_BYTES} unexpected bytes after the trailer`);
    }
    return {
      path: file,
      formatVersion: version,
      createdAt,
      finishedAt: totals.finishedAt,
      sourceOptions,
      records,
      blocks,
      payloadBytes: payloadTotal,
      fileBytes: size,
      maxKeyLength,
      maxValueLength,
    };
  } finally {
    await handle.close();
  }
}

/**
 * Walks the records of one payload, checking that they fill it exactly;
 * returns the first structural problem (with its offset in the payload), or
 * undefined. The block checksum has already passed, so a problem here means a
 * writer bug or a forged file.
 */
function walkRecords(
  payload: Buffer,
  payloadBytes: number,
  records: number,
  sink: RecordSink | undefined,
  measure: (keyLength: number, valueLength: number) => void,
): { at: number; what: string } | undefined {
  let at = 0;
  for (let n = 0; n < records; n++) {
    if (at + RECORD_FIXED_BYTES > payloadBytes) return { at, what: `record ${n} of ${records} starts past the payload's end` };
    const flags = payload[at + R_FLAGS]!;
    if ((flags & ~RECORD_KNOWN_FLAGS) !== 0) return { at, what: `record ${n} has unknown flags ${flags}` };
    const keyLength = payload.readUInt16LE(at + R_KEY_LENGTH);
    const valueLength = payload.readUInt32LE(at + R_VALUE_LENGTH);
    let data = at + R_EXPIRES_AT;
    let expiresAt = 0;
    if ((flags & RECORD_EXPIRES) !== 0) {
      if (data + SIZEOF_EXPIRES_AT > payloadBytes) return { at, what: `record ${n} runs past the payload's end` };
      expiresAt = payload.readDoubleLE(data);
      // Beyond MAX_SAFE_INTEGER ms the remaining TTL could not be set: only a forged file has that.
      if (!(expiresAt > 0 && expiresAt <= Number.MAX_SAFE_INTEGER)) return { at, what: `record ${n} has an impossible expiry` };
      data += SIZEOF_EXPIRES_AT;
    }
    const end = data + keyLength + valueLength;
    if (end > payloadBytes) return { at, what: `record ${n} runs past the payload's end` };
    measure(keyLength, valueLength);
    sink?.(payload, data, keyLength, data + keyLength, valueLength, expiresAt, (flags & RECORD_BINARY_KEY) !== 0, (flags & RECORD_TEXT) !== 0);
    at = end;
  }
  if (at !== payloadBytes) return { at, what: `${payloadBytes - at} bytes left over after ${records} records` };
  return undefined;
}

/**
 * Reads a file through one window of a few MiB, so that the many small reads
 * of block heads and payloads turn into few large system calls. A returned
 * view is valid until the next read.
 */
class WindowReader {
  static readonly WINDOW_BYTES = 4 << 20;
  #window = Buffer.allocUnsafe(WindowReader.WINDOW_BYTES);
  #start = 0;
  #length = 0;

  constructor(
    readonly handle: FileHandle,
    readonly size: number,
    readonly file: string,
  ) {}

  /** `length` bytes at `position` (the caller has checked they lie inside the file). */
  async read(position: number, length: number): Promise<Buffer> {
    if (position >= this.#start && position + length <= this.#start + this.#length) {
      return this.#window.subarray(position - this.#start, position - this.#start + length);
    }
    if (length > this.#window.length) this.#window = Buffer.allocUnsafe(length);
    const want = Math.min(this.#window.length, this.size - position);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.handle.read(this.#window, got, want - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    this.#start = position;
    this.#length = got;
    if (got < length) {
      throw new SnapshotError('ERR_SNAPSHOT_TRUNCATED', this.file, position + got, 'the file shrank while being read');
    }
    return this.#window.subarray(0, length);
  }
}
