/**
 * Saving a snapshot without stopping the cache.
 *
 * The cache's snapshot walk (walker.ts: a cursor that is a sentinel in the
 * recency list) visits the entries from the oldest to the newest. Each
 * event-loop turn copies a bounded batch of them (at most `chunkEntries`
 * entries or about `chunkBytes` bytes) into one block, seals it with its
 * checksum and hands it to an asynchronous write; while the write is in flight
 * the cache serves requests, and the next batch starts where the cursor was
 * left. So no single synchronous step is longer than one batch.
 *
 * The file holds the cache exactly as it was when the walk reached the head
 * (the last step): changes behind the cursor come back to the walk as
 * tombstones, updates and clears (walkLog.ts), written before the next batch.
 * If the cache changes faster than the walk log holds between two steps, the
 * save fails with ERR_SNAPSHOT_OVERRUN rather than write an inexact file.
 *
 * Durability: the file is written as `<path>.tmp-<pid>-<n>` with mode 0600 (it
 * holds every value), fsynced, renamed over `path` (atomic on POSIX) and the
 * directory fsynced, so at every moment `path` holds either the previous
 * complete snapshot or the new one.
 */

import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import type { SlabLruCache } from '../cache.js';
import { WalkOverflowError, type WalkEntry, type WalkSink } from '../walker.js';
import {
  BLOCK_HEAD_BYTES,
  chainBlock,
  E_ASCII,
  E_BINARY_KEY,
  E_EXPIRES,
  E_META,
  E_TEXT,
  E_VERSION,
  E_VISITED,
  encodeHeader,
  encodeTrailer,
  ENTRY_FIXED_BYTES,
  entryRecordBytes,
  KIND_CLEAR,
  KIND_ENTRY,
  KIND_HAND,
  KIND_TOMBSTONE,
  KIND_UPDATE,
  NOTE_FIXED_BYTES,
  R_FLAGS,
  R_KEY_LENGTH,
  R_KIND,
  R_NOTE_KEY_LENGTH,
  R_VALUE_LENGTH,
  sealBlock,
  SnapshotError,
  type TrailerFields,
} from './format.js';

export interface SaveOptions {
  /** Most entries copied in one event-loop turn. Default 4,096. */
  chunkEntries?: number;
  /** About how many bytes one turn copies (a single larger entry still goes whole). Default 1 MiB. */
  chunkBytes?: number;
  /** fsync the file and its directory (default true; tests of the format may turn it off for speed). */
  fsync?: boolean;
  /**
   * Called as each block is sealed, right after the walk step that filled it
   * and before the block is written (so between two steps of the walk), with
   * the records and bytes so far and the cache's entries now (for progress
   * reports). `done`: the walk is over: the snapshot's instant has passed.
   */
  onProgress?: (progress: { readonly records: number; readonly bytes: number; readonly entries: number; readonly done: boolean }) => void;
}

export interface SaveStats {
  readonly path: string;
  /** Entries in the snapshot: the cache's entries at its instant. */
  readonly entries: number;
  /** Records written: entries, plus entries written again, updates, tombstones. */
  readonly records: number;
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
    handle = await open(temporary, 'w', 0o600);
    const header = encodeHeader(startedAt, cache.options);
    await writeAll(handle, header);
    let fileBytes = header.length;
    const writer = new BlockWriter(chunkBytes);
    let longestStepMs = 0;
    for (let more = true; more; ) {
      const stepStart = performance.now();
      try {
        more = writer.fill(cache, chunkEntries, chunkBytes);
      } catch (error) {
        if (!(error instanceof WalkOverflowError)) throw error;
        throw new SnapshotError('ERR_SNAPSHOT_OVERRUN', file, -1, `the cache changed too fast to save exactly (${error.message}); try again`);
      }
      const block = writer.seal();
      longestStepMs = Math.max(longestStepMs, performance.now() - stepStart);
      if (block !== undefined) fileBytes += block.length;
      options.onProgress?.({ records: writer.records, bytes: fileBytes, entries: cache.size, done: !more });
      if (block !== undefined) await writeAll(handle, block);
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
      entries: writer.entriesAtInstant,
      records: writer.records,
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
 * larger than the buffer) and keeps the totals the trailer needs. It is the
 * walk's sink: it runs inside walkStep, under the cache lock, and must not call
 * the cache.
 */
class BlockWriter implements WalkSink {
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
  /** Set by `finish`: the cache's entries and version counter at the snapshot's instant. */
  entriesAtInstant = 0;
  #lastVersion = 0;

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
      if (!cache.walkStep(step, this)) return false;
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

  totals(): Omit<TrailerFields, 'finishedAt'> {
    return {
      records: this.records,
      blocks: this.blocks,
      payloadBytes: this.#payloadBytes,
      maxKeyLength: this.#maxKeyLength,
      maxValueLength: this.#maxValueLength,
      chainCrc: this.#chainCrc,
      entries: this.entriesAtInstant,
      lastVersion: this.#lastVersion,
    };
  }

  /* ---- WalkSink ---- */

  entry(arena: Buffer, e: WalkEntry, update: boolean): void {
    const flags =
      (e.expiresAt !== 0 ? E_EXPIRES : 0) |
      (e.binaryKey ? E_BINARY_KEY : 0) |
      (e.text ? E_TEXT : 0) |
      (e.ascii ? E_ASCII : 0) |
      (e.metaStart >= 0 ? E_META : 0) |
      (e.visited ? E_VISITED : 0) |
      (e.version !== 0 ? E_VERSION : 0);
    const at = this.#reserve(entryRecordBytes(e.keyLength, e.valueLength, flags, e.metaLength));
    const out = this.#buffer;
    out[at + R_KIND] = update ? KIND_UPDATE : KIND_ENTRY;
    out[at + R_FLAGS] = flags;
    out.writeUInt16LE(e.keyLength, at + R_KEY_LENGTH);
    out.writeUInt32LE(e.valueLength, at + R_VALUE_LENGTH);
    let data = at + ENTRY_FIXED_BYTES;
    if ((flags & E_EXPIRES) !== 0) data = out.writeDoubleLE(e.expiresAt, data);
    if ((flags & E_VERSION) !== 0) data = out.writeDoubleLE(e.version, data);
    if ((flags & E_META) !== 0) {
      out[data] = e.metaLength;
      arena.copy(out, data + 1, e.metaStart, e.metaStart + e.metaLength);
      data += 1 + e.metaLength;
    }
    arena.copy(out, data, e.keyStart, e.keyStart + e.keyLength);
    arena.copy(out, data + e.keyLength, e.valueStart, e.valueStart + e.valueLength);
    this.#measure(e.keyLength, e.valueLength);
  }

  tombstone(bytes: Buffer, keyStart: number, keyLength: number): void {
    this.#note(KIND_TOMBSTONE, bytes, keyStart, keyLength);
  }

  clear(): void {
    const at = this.#reserve(1);
    this.#buffer[at + R_KIND] = KIND_CLEAR;
  }

  finish(arena: Buffer, hand: { keyStart: number; keyLength: number } | undefined, lastVersion: number, items: number): void {
    if (hand !== undefined) this.#note(KIND_HAND, arena, hand.keyStart, hand.keyLength);
    this.#lastVersion = lastVersion;
    this.entriesAtInstant = items;
  }

  /* ---- private ---- */

  #note(kind: number, bytes: Buffer, keyStart: number, keyLength: number): void {
    const at = this.#reserve(NOTE_FIXED_BYTES + keyLength);
    const out = this.#buffer;
    out[at + R_KIND] = kind;
    out.writeUInt16LE(keyLength, at + R_NOTE_KEY_LENGTH);
    bytes.copy(out, at + NOTE_FIXED_BYTES, keyStart, keyStart + keyLength);
    if (keyLength > this.#maxKeyLength) this.#maxKeyLength = keyLength;
  }

  /** Makes room for one record of `size` bytes at the end of the block and returns where it starts. */
  #reserve(size: number): number {
    if (this.#end + size > this.#buffer.length) this.#grow(this.#end + size);
    const at = this.#end;
    this.#end = at + size;
    this.#blockRecords++;
    this.records++;
    return at;
  }

  #measure(keyLength: number, valueLength: number): void {
    if (keyLength > this.#maxKeyLength) this.#maxKeyLength = keyLength;
    if (valueLength > this.#maxValueLength) this.#maxValueLength = valueLength;
  }

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
