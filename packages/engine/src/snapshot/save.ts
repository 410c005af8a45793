/**
 * Saving a snapshot without stopping the cache.
 *
 * The cache's snapshot walk (cache.beginWalk/walkStep/endWalk, a cursor that
 * is a sentinel in the LRU list) visits the entries from least to most
 * recently used. Each event-loop turn copies a bounded batch of them (at most
 * `chunkEntries` entries or about `chunkBytes` bytes) into one block, seals it
 * with its checksum and hands it to an asynchronous write; while the write is
 * in flight the cache serves requests, and the next batch starts where the
 * cursor was left. So no single synchronous step is longer than one batch.
 *
 * Consistency is fuzzy, like Redis's background saves without fork: every
 * record is one whole entry as it was when visited; an entry set or read after
 * it was visited moves ahead of the cursor and is written again, later (the
 * loader keeps the last record); an entry deleted after it was written stays
 * in the snapshot; an entry deleted before it was reached is not written.
 *
 * Durability: the file is written as `<path>.tmp-<pid>-<n>`, fsynced, renamed over
 * `path` (atomic on POSIX) and the directory fsynced, so at every moment
 * `path` holds either the previous complete snapshot or the new one.
 */

import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import type { SlabLruCache, WalkVisitor } from '../cache.js';
import {
  BLOCK_HEAD_BYTES,
  chainBlock,
  encodeHeader,
  encodeTrailer,
  R_EXPIRES_AT,
  R_FLAGS,
  R_KEY_LENGTH,
  R_VALUE_LENGTH,
  RECORD_BINARY_KEY,
  RECORD_EXPIRES,
  RECORD_TEXT,
  recordBytes,
  sealBlock,
  SnapshotError,
} from './format.js';

export interface SaveOptions {
  /** Most entries copied in one event-loop turn. Default 4,096. */
  chunkEntries?: number;
  /** About how many bytes one turn copies (a single larger entry still goes whole). Default 1 MiB. */
  chunkBytes?: number;
  /** fsync the file and its directory (default true; tests of the format may turn it off for speed). */
  fsync?: boolean;
}

export interface SaveStats {
  readonly path: string;
  /** Records written (an entry visited twice counts twice). */
  readonly entries: number;
  /** Size of the snapshot file. */
  readonly bytes: number;
  readonly blocks: number;
  readonly startedAt: number;
  readonly durationMs: number;
  /** Longest time the save held the event loop in one go (copying a batch). */
  readonly longestStepMs: number;
}

const DEFAULT_CHUNK_ENTRIES = 4096;
const DEFAULT_CHUNK_BYTES = 1 << 20;
/** Entries per walkStep call: small, so the byte budget of a turn is checked often. */
const MAX_WALK_STEP = 256;
let saveSequence = 0;

/**
 * Writes a snapshot of `cache` to `file`, over many event-loop turns.
 * Resolves with what was written; rejects (leaving any previous snapshot at
 * `file` untouched, and no temporary file behind) if writing fails, or with
 * SnapshotError ERR_SNAPSHOT_BUSY if another save is walking this cache.
 */
export async function saveSnapshot(cache: SlabLruCache, file: string, options: SaveOptions = {}): Promise<SaveStats> {
  const chunkEntries = positiveInteger('chunkEntries', options.chunkEntries ?? DEFAULT_CHUNK_ENTRIES);
  const chunkBytes = positiveInteger('chunkBytes', options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
  const fsync = options.fsync ?? true;
  const startedAt = Date.now();
  const started = performance.now();
  // The sequence number keeps two saves in one process (of two caches) off each other's file.
  const temporary = `${file}.tmp-${process.pid}-${++saveSequence}`;

  // Claim the walk first: a second save of the same cache must fail before it touches any file.
  try {
    cache.beginWalk();
  } catch (error) {
    throw new SnapshotError('ERR_SNAPSHOT_BUSY', file, -1, `cannot start a save: ${(error as Error).message}`);
  }
  let walking = true;
  let handle: FileHandle | undefined;
  try {
    handle = await open(temporary, 'w', 0o644);
    const header = encodeHeader(startedAt, cache.options);
    await writeAll(handle, header);
    let fileBytes = header.length;
    const writer = new BlockWriter(chunkBytes);
    let longestStepMs = 0;
    for (let more = true; more; ) {
      const stepStart = performance.now();
      more = writer.fill(cache, chunkEntries, chunkBytes);
      const block = writer.seal();
      longestStepMs = Math.max(longestStepMs, performance.now() - stepStart);
      if (block !== undefined) {
        await writeAll(handle, block);
        fileBytes += block.length;
      }
    }
    cache.endWalk();
    walking = false;

    const trailer = encodeTrailer({ ...writer.totals(), finishedAt: Date.now() });
    await writeAll(handle, trailer);
    fileBytes += trailer.length;
    if (fsync) await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temporary, file);
    if (fsync) await syncDirectory(path.dirname(file));
    return {
      path: file,
      entries: writer.records,
      bytes: fileBytes,
      blocks: writer.blocks,
      startedAt,
      durationMs: performance.now() - started,
      longestStepMs,
    };
  } catch (error) {
    if (walking) cache.endWalk();
    await handle?.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/**
 * Builds blocks from walk steps in one reusable buffer (grown for an entry
 * larger than the buffer) and keeps the totals the trailer needs.
 */
class BlockWriter {
  #buffer: Buffer;
  /** Write position in #buffer; the payload starts at BLOCK_HEAD_BYTES. */
  #end = BLOCK_HEAD_BYTES;
  #blockRecords = 0;
  records = 0;
  blocks = 0;
  #payloadBytes = 0;
  #maxKeyLength = 0;
  #maxValueLength = 0;
  #chainCrc = 0;
  /** Running mean record size, to size walk steps to the byte budget. */
  #meanRecordBytes = 128;

  constructor(chunkBytes: number) {
    this.#buffer = Buffer.allocUnsafe(BLOCK_HEAD_BYTES + chunkBytes + 4096);
  }

  /** Copies up to `maxEntries` entries (about `maxBytes`) into the block. False once the walk is over. */
  fill(cache: SlabLruCache, maxEntries: number, maxBytes: number): boolean {
    while (this.#blockRecords < maxEntries) {
      const roomBytes = maxBytes - (this.#end - BLOCK_HEAD_BYTES);
      if (roomBytes <= 0) return true;
      const byBytes = Math.max(1, Math.floor(roomBytes / this.#meanRecordBytes));
      const step = Math.min(MAX_WALK_STEP, maxEntries - this.#blockRecords, byBytes);
      if (!cache.walkStep(step, this.#visit)) return false;
    }
    return true;
  }

  /** Seals the current block and returns it (a view valid until the next fill), or undefined if empty. */
  seal(): Buffer | undefined {
    if (this.#blockRecords === 0) return undefined;
    const payloadBytes = this.#end - BLOCK_HEAD_BYTES;
    sealBlock(this.#buffer, payloadBytes, this.#blockRecords);
    this.#chainCrc = chainBlock(this.#chainCrc, this.#buffer);
    this.#payloadBytes += payloadBytes;
    this.blocks++;
    this.#meanRecordBytes = Math.max(16, payloadBytes / this.#blockRecords);
    const block = this.#buffer.subarray(0, this.#end);
    this.#end = BLOCK_HEAD_BYTES;
    this.#blockRecords = 0;
    return block;
  }

  totals(): { records: number; blocks: number; payloadBytes: number; maxKeyLength: number; maxValueLength: number; chainCrc: number } {
    return {
      records: this.records,
      blocks: this.blocks,
      payloadBytes: this.#payloadBytes,
      maxKeyLength: this.#maxKeyLength,
      maxValueLength: this.#maxValueLength,
      chainCrc: this.#chainCrc,
    };
  }

  /** The walk visitor: appends one record (runs inside walkStep, so it must not call the cache). */
  readonly #visit: WalkVisitor = (arena, keyStart, keyLength, valueStart, valueLength, expiresAt, binaryKey, text) => {
    const expires = expiresAt !== 0;
    const size = recordBytes(keyLength, valueLength, expires);
    if (this.#end + size > this.#buffer.length) this.#grow(this.#end + size);
    const out = this.#buffer;
    const at = this.#end;
    out[at + R_FLAGS] = (expires ? RECORD_EXPIRES : 0) | (binaryKey ? RECORD_BINARY_KEY : 0) | (text ? RECORD_TEXT : 0);
    out.writeUInt16LE(keyLength, at + R_KEY_LENGTH);
    out.writeUInt32LE(valueLength, at + R_VALUE_LENGTH);
    let data = at + R_EXPIRES_AT;
    if (expires) {
      out.writeDoubleLE(expiresAt, data);
      data += 8;
    }
    arena.copy(out, data, keyStart, keyStart + keyLength);
    arena.copy(out, data + keyLength, valueStart, valueStart + valueLength);
    this.#end = at + size;
    this.#blockRecords++;
    this.records++;
    if (keyLength > this.#maxKeyLength) this.#maxKeyLength = keyLength;
    if (valueLength > this.#maxValueLength) this.#maxValueLength = valueLength;
  };

  #grow(needed: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(needed, this.#buffer.length * 2));
    this.#buffer.copy(bigger, 0, 0, this.#end);
    this.#buffer = bigger;
  }
}

/** Writes all of `bytes` at the file's current end (a write may take fewer bytes than it was given). */
async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done);
    if (bytesWritten === 0) throw new Error('snapshot write made no progress');
    done += bytesWritten;
  }
}

/** fsync a directory so that a rename in it survives a power cut; skipped where the OS refuses. */
async function syncDirectory(directory: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM') throw error;
  } finally {
    await handle?.close();
  }
}

function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}
