/**
 * The strict snapshot reader: opens a file, checks every byte the format
 * (format.ts) lets it check, and hands out blocks and records. It changes
 * nothing: loading (load.ts) decides what to do with the records.
 *
 *   scan        one pass over the whole file: magic, version, header checksum,
 *               every block's tag, length, checksum and record structure, the
 *               chained block checksum and the trailer's totals. Returns what
 *               the file holds and where each block starts.
 *   readBlock   one block again (any order), checked again: the file is read
 *               twice, and could have been changed in between.
 *
 * A problem is a SnapshotError naming what is wrong and the byte where it is.
 */

import { open, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';

import type { ResolvedOptions } from '../options.js';
import {
  B_CRC,
  B_PAYLOAD_BYTES,
  B_RECORDS,
  BLOCK_HEAD_BYTES,
  BLOCK_TAG,
  blockCrc,
  chainBlock,
  decodeTrailer,
  E_EXPIRES,
  E_KNOWN,
  E_META,
  E_VERSION,
  ENTRY_FIXED_BYTES,
  FORMAT_VERSION,
  FORMAT_VERSION_1,
  H_CREATED_AT,
  H_HEADER_BYTES,
  H_OPTIONS,
  H_OPTIONS_LENGTH,
  H_VERSION,
  HEADER_FIXED_BYTES,
  KIND_CLEAR,
  KIND_ENTRY,
  KIND_HAND,
  KIND_TOMBSTONE,
  KIND_UPDATE,
  MAGIC,
  MAX_OPTIONS_JSON_BYTES,
  NOTE_FIXED_BYTES,
  R_FLAGS,
  R_KEY_LENGTH,
  R_KIND,
  R_NOTE_KEY_LENGTH,
  R_VALUE_LENGTH,
  SIZEOF_CRC,
  SIZEOF_F64,
  SnapshotError,
  T_CRC,
  T_CRC_V1,
  T_TRAILER_BYTES,
  TRAILER_BYTES,
  TRAILER_BYTES_V1,
  TRAILER_TAG,
  V1_EXPIRES,
  V1_FIXED_BYTES,
  V1_FLAGS,
  V1_KEY_LENGTH,
  V1_VALUE_LENGTH,
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
  /** Entries the cache held at the snapshot's instant; -1 for a version 1 file (unknown). */
  readonly entries: number;
  /** The cache's version counter at that instant (0 for version 1 files). */
  readonly lastVersion: number;
}

/** Where a block is, from the scan. */
export interface BlockPlace {
  readonly offset: number;
  readonly payloadBytes: number;
  readonly records: number;
}

/**
 * One decoded record: a reusable object the record walkers fill in. Ranges
 * are of the payload buffer they were read from.
 */
export interface RecordView {
  kind: number;
  /** E_* flags of an ENTRY/UPDATE (version 1 entries are translated). */
  flags: number;
  keyStart: number;
  keyLength: number;
  valueStart: number;
  valueLength: number;
  expiresAt: number;
  version: number;
  metaStart: number;
  metaLength: number;
  /** Offset just past the record. */
  end: number;
}

export function newRecordView(): RecordView {
  return { kind: 0, flags: 0, keyStart: 0, keyLength: 0, valueStart: 0, valueLength: 0, expiresAt: 0, version: 0, metaStart: -1, metaLength: 0, end: 0 };
}

/**
 * Decodes the record at `at` into `r`; returns a description of what is wrong
 * with it (then `r` is meaningless) or undefined. Never reads past `limit`.
 */
export function decodeRecord(payload: Buffer, at: number, limit: number, version: number, r: RecordView): string | undefined {
  if (version === FORMAT_VERSION_1) return decodeV1(payload, at, limit, r);
  if (at + 1 > limit) return 'starts past the payload\'s end';
  const kind = payload[at + R_KIND]!;
  r.kind = kind;
  if (kind === KIND_CLEAR) {
    r.end = at + 1;
    return undefined;
  }
  if (kind === KIND_TOMBSTONE || kind === KIND_HAND) {
    if (at + NOTE_FIXED_BYTES > limit) return 'runs past the payload\'s end';
    r.keyLength = payload.readUInt16LE(at + R_NOTE_KEY_LENGTH);
    r.keyStart = at + NOTE_FIXED_BYTES;
    r.end = r.keyStart + r.keyLength;
    return r.end > limit ? 'runs past the payload\'s end' : undefined;
  }
  if (kind !== KIND_ENTRY && kind !== KIND_UPDATE) return `has unknown kind ${kind}`;
  if (at + ENTRY_FIXED_BYTES > limit) return 'runs past the payload\'s end';
  const flags = payload[at + R_FLAGS]!;
  if ((flags & ~E_KNOWN) !== 0) return `has unknown flags ${flags}`;
  r.flags = flags;
  r.keyLength = payload.readUInt16LE(at + R_KEY_LENGTH);
  r.valueLength = payload.readUInt32LE(at + R_VALUE_LENGTH);
  let data = at + ENTRY_FIXED_BYTES;
  r.expiresAt = 0;
  r.version = 0;
  r.metaStart = -1;
  r.metaLength = 0;
  if ((flags & E_EXPIRES) !== 0) {
    if (data + SIZEOF_F64 > limit) return 'runs past the payload\'s end';
    r.expiresAt = payload.readDoubleLE(data);
    // Beyond MAX_SAFE_INTEGER ms the remaining TTL could not be set: only a forged file has that.
    if (!(r.expiresAt > 0 && r.expiresAt <= Number.MAX_SAFE_INTEGER)) return 'has an impossible expiry';
    data += SIZEOF_F64;
  }
  if ((flags & E_VERSION) !== 0) {
    if (data + SIZEOF_F64 > limit) return 'runs past the payload\'s end';
    r.version = payload.readDoubleLE(data);
    if (!Number.isSafeInteger(r.version) || r.version <= 0) return 'has an impossible version';
    data += SIZEOF_F64;
  }
  if ((flags & E_META) !== 0) {
    if (data + 1 > limit) return 'runs past the payload\'s end';
    r.metaLength = payload[data]!;
    r.metaStart = data + 1;
    data += 1 + r.metaLength;
  }
  r.keyStart = data;
  r.valueStart = data + r.keyLength;
  r.end = r.valueStart + r.valueLength;
  return r.end > limit ? 'runs past the payload\'s end' : undefined;
}

/** A version 1 record: an ENTRY whose key is a string and whose value is bytes. */
function decodeV1(payload: Buffer, at: number, limit: number, r: RecordView): string | undefined {
  if (at + V1_FIXED_BYTES > limit) return 'starts past the payload\'s end';
  const flags = payload[at + V1_FLAGS]!;
  if ((flags & ~V1_EXPIRES) !== 0) return `has unknown flags ${flags}`;
  r.kind = KIND_ENTRY;
  r.flags = (flags & V1_EXPIRES) !== 0 ? E_EXPIRES : 0;
  r.keyLength = payload.readUInt16LE(at + V1_KEY_LENGTH);
  r.valueLength = payload.readUInt32LE(at + V1_VALUE_LENGTH);
  r.version = 0;
  r.metaStart = -1;
  r.metaLength = 0;
  let data = at + V1_FIXED_BYTES;
  r.expiresAt = 0;
  if ((flags & V1_EXPIRES) !== 0) {
    if (data + SIZEOF_F64 > limit) return 'runs past the payload\'s end';
    r.expiresAt = payload.readDoubleLE(data);
    if (!(r.expiresAt > 0 && r.expiresAt <= Number.MAX_SAFE_INTEGER)) return 'has an impossible expiry';
    data += SIZEOF_F64;
  }
  r.keyStart = data;
  r.valueStart = data + r.keyLength;
  r.end = r.valueStart + r.valueLength;
  return r.end > limit ? 'runs past the payload\'s end' : undefined;
}

/** An open snapshot file, read through one window (few large reads instead of many small ones). */
export class SnapshotFile {
  static readonly WINDOW_BYTES = 4 << 20;
  #window = Buffer.allocUnsafe(SnapshotFile.WINDOW_BYTES);
  #start = 0;
  #length = 0;

  private constructor(
    readonly handle: FileHandle,
    readonly size: number,
    readonly path: string,
  ) {}

  /** Opens `file`; SnapshotError ERR_SNAPSHOT_MISSING if there is none. */
  static async open(file: string): Promise<SnapshotFile> {
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new SnapshotError('ERR_SNAPSHOT_MISSING', file, -1, 'no such file');
      throw error;
    }
    const stat = await handle.stat();
    if (!stat.isFile()) {
      await handle.close();
      throw new SnapshotError('ERR_SNAPSHOT_FOREIGN', file, -1, 'not a regular file');
    }
    return new SnapshotFile(handle, stat.size, file);
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  fail(code: SnapshotErrorCode, offset: number, detail: string): never {
    throw new SnapshotError(code, this.path, offset, detail);
  }

  /**
   * `length` bytes at `position` (the caller checked they lie inside the
   * file), as a view valid until the next read. Reading backward (blocks from
   * last to first) fills the window so that it ends at the bytes asked for.
   */
  async read(position: number, length: number, backward = false): Promise<Buffer> {
    if (position >= this.#start && position + length <= this.#start + this.#length) {
      return this.#window.subarray(position - this.#start, position - this.#start + length);
    }
    if (length > this.#window.length) this.#window = Buffer.allocUnsafe(length);
    const start = backward ? Math.max(0, position + length - this.#window.length) : position;
    const want = Math.min(this.#window.length, this.size - start);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.handle.read(this.#window, got, want - got, start + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    this.#start = start;
    this.#length = got;
    if (start + got < position + length) this.fail('ERR_SNAPSHOT_TRUNCATED', start + got, 'the file shrank while being read');
    return this.#window.subarray(position - start, position - start + length);
  }

  /**
   * Reads one block again, checks its head and checksum against the scan, and
   * returns its payload (a view valid until the next read).
   */
  async readBlock(place: BlockPlace, index: number, backward: boolean): Promise<Buffer> {
    const block = await this.read(place.offset, BLOCK_HEAD_BYTES + place.payloadBytes, backward);
    if (
      block.readUInt32LE(0) !== BLOCK_TAG ||
      block.readUInt32LE(B_PAYLOAD_BYTES) !== place.payloadBytes ||
      block.readUInt32LE(B_RECORDS) !== place.records ||
      blockCrc(block, block, BLOCK_HEAD_BYTES, place.payloadBytes) !== block.readUInt32LE(B_CRC)
    ) {
      this.fail('ERR_SNAPSHOT_CORRUPT', place.offset, `block ${index} changed since it was checked`);
    }
    return block.subarray(BLOCK_HEAD_BYTES);
  }
}

export interface ScanResult {
  readonly info: SnapshotInfo;
  readonly blocks: readonly BlockPlace[];
}

/**
 * Checks the whole file, block by block, and says where each block is.
 * `onBlock` hears of each block checked (for progress reports).
 */
export async function scanSnapshot(f: SnapshotFile, onBlock?: (bytesRead: number) => void): Promise<ScanResult> {
  const size = f.size;

  /* header */
  const head = await f.read(0, Math.min(size, HEADER_FIXED_BYTES));
  const magicSeen = head.subarray(0, Math.min(size, MAGIC.length));
  if (!MAGIC.subarray(0, magicSeen.length).equals(magicSeen)) {
    f.fail('ERR_SNAPSHOT_FOREIGN', 0, 'not a slabcache snapshot (its first bytes are not "SLABSNAP")');
  }
  if (size < HEADER_FIXED_BYTES) f.fail('ERR_SNAPSHOT_TRUNCATED', size, `the file is ${size} bytes, shorter than a snapshot header`);
  const version = head.readUInt32LE(H_VERSION);
  if (version !== FORMAT_VERSION && version !== FORMAT_VERSION_1) {
    f.fail('ERR_SNAPSHOT_VERSION', H_VERSION, `format version ${version}; this build reads versions ${FORMAT_VERSION_1} and ${FORMAT_VERSION}`);
  }
  const headerBytes = head.readUInt32LE(H_HEADER_BYTES);
  const optionsLength = head.readUInt32LE(H_OPTIONS_LENGTH);
  const createdAt = head.readDoubleLE(H_CREATED_AT);
  if (optionsLength > MAX_OPTIONS_JSON_BYTES || headerBytes !== HEADER_FIXED_BYTES + optionsLength + SIZEOF_CRC) {
    f.fail('ERR_SNAPSHOT_CORRUPT', H_HEADER_BYTES, `header length fields disagree (${headerBytes} bytes with ${optionsLength} bytes of options)`);
  }
  if (headerBytes > size) f.fail('ERR_SNAPSHOT_TRUNCATED', size, `the file ends inside its ${headerBytes}-byte header`);
  const header = Buffer.from(await f.read(0, headerBytes));
  if (crc32(header.subarray(0, headerBytes - SIZEOF_CRC)) !== header.readUInt32LE(headerBytes - SIZEOF_CRC)) {
    f.fail('ERR_SNAPSHOT_CORRUPT', headerBytes - SIZEOF_CRC, 'header checksum mismatch');
  }
  let sourceOptions: Partial<ResolvedOptions>;
  try {
    sourceOptions = JSON.parse(header.toString('utf8', H_OPTIONS, H_OPTIONS + optionsLength)) as Partial<ResolvedOptions>;
  } catch {
    sourceOptions = f.fail('ERR_SNAPSHOT_CORRUPT', H_OPTIONS, 'the header options are not JSON');
  }
  if (sourceOptions === null || typeof sourceOptions !== 'object') f.fail('ERR_SNAPSHOT_CORRUPT', H_OPTIONS, 'the header options are not an object');

  /* blocks */
  const blocks: BlockPlace[] = [];
  const r = newRecordView();
  let offset = headerBytes;
  let records = 0;
  let payloadTotal = 0;
  let chain = 0;
  let maxKeyLength = 0;
  let maxValueLength = 0;
  for (;;) {
    if (offset + 4 > size) {
      f.fail('ERR_SNAPSHOT_TRUNCATED', offset, `the file ends after ${blocks.length} blocks without its trailer (an unfinished save?)`);
    }
    const tag = (await f.read(offset, 4)).readUInt32LE(0);
    if (tag === TRAILER_TAG) break;
    if (tag !== BLOCK_TAG) f.fail('ERR_SNAPSHOT_CORRUPT', offset, `expected block ${blocks.length} or the trailer, found neither`);
    if (offset + BLOCK_HEAD_BYTES > size) f.fail('ERR_SNAPSHOT_TRUNCATED', offset, `the file ends inside the head of block ${blocks.length}`);
    const blockHead = Buffer.from(await f.read(offset, BLOCK_HEAD_BYTES));
    const payloadBytes = blockHead.readUInt32LE(B_PAYLOAD_BYTES);
    const blockRecords = blockHead.readUInt32LE(B_RECORDS);
    const payloadStart = offset + BLOCK_HEAD_BYTES;
    if (payloadStart + payloadBytes > size) {
      f.fail('ERR_SNAPSHOT_TRUNCATED', offset, `block ${blocks.length} claims ${payloadBytes} bytes but the file ends ${size - payloadStart} bytes after its head`);
    }
    const payload = await f.read(payloadStart, payloadBytes);
    if (blockCrc(blockHead, payload, 0, payloadBytes) !== blockHead.readUInt32LE(B_CRC)) {
      f.fail('ERR_SNAPSHOT_CORRUPT', offset, `block ${blocks.length} checksum mismatch`);
    }
    let at = 0;
    for (let n = 0; n < blockRecords; n++) {
      const problem = decodeRecord(payload, at, payloadBytes, version, r);
      if (problem !== undefined) f.fail('ERR_SNAPSHOT_CORRUPT', payloadStart + at, `block ${blocks.length}: record ${n} of ${blockRecords} ${problem}`);
      if (r.kind !== KIND_CLEAR) {
        if (r.keyLength > maxKeyLength) maxKeyLength = r.keyLength;
        if ((r.kind === KIND_ENTRY || r.kind === KIND_UPDATE) && r.valueLength > maxValueLength) maxValueLength = r.valueLength;
      }
      at = r.end;
    }
    if (at !== payloadBytes) {
      f.fail('ERR_SNAPSHOT_CORRUPT', payloadStart + at, `block ${blocks.length}: ${payloadBytes - at} bytes left over after ${blockRecords} records`);
    }
    blocks.push({ offset, payloadBytes, records: blockRecords });
    chain = chainBlock(chain, blockHead);
    records += blockRecords;
    payloadTotal += payloadBytes;
    offset = payloadStart + payloadBytes;
    onBlock?.(offset);
  }

  /* trailer */
  const trailerBytes = version === FORMAT_VERSION_1 ? TRAILER_BYTES_V1 : TRAILER_BYTES;
  const crcAt = version === FORMAT_VERSION_1 ? T_CRC_V1 : T_CRC;
  if (offset + trailerBytes > size) f.fail('ERR_SNAPSHOT_TRUNCATED', offset, 'the file ends inside its trailer');
  const trailer = Buffer.from(await f.read(offset, trailerBytes));
  if (trailer.readUInt32LE(T_TRAILER_BYTES) !== trailerBytes || crc32(trailer.subarray(0, crcAt)) !== trailer.readUInt32LE(crcAt)) {
    f.fail('ERR_SNAPSHOT_CORRUPT', offset, 'trailer checksum mismatch');
  }
  const totals = decodeTrailer(trailer, version);
  if (totals.chainCrc !== chain >>> 0) f.fail('ERR_SNAPSHOT_CORRUPT', offset, 'the blocks are not the ones the trailer was written for (chained checksum mismatch)');
  if (totals.records !== records || totals.blocks !== blocks.length || totals.payloadBytes !== payloadTotal) {
    f.fail('ERR_SNAPSHOT_CORRUPT', offset, `trailer totals (${totals.records} records in ${totals.blocks} blocks) disagree with the file (${records} in ${blocks.length})`);
  }
  if (totals.maxKeyLength !== maxKeyLength || totals.maxValueLength !== maxValueLength) {
    f.fail('ERR_SNAPSHOT_CORRUPT', offset, 'trailer key/value maxima disagree with the records');
  }
  if (offset + trailerBytes !== size) {
    f.fail('ERR_SNAPSHOT_CORRUPT', offset + trailerBytes, `${size - offset - trailerBytes} unexpected bytes after the trailer`);
  }
  if (version !== FORMAT_VERSION_1 && !(Number.isSafeInteger(totals.entries) && totals.entries >= 0 && Number.isSafeInteger(totals.lastVersion) && totals.lastVersion >= 0)) {
    f.fail('ERR_SNAPSHOT_CORRUPT', offset, 'the trailer\'s entry count or version counter is impossible');
  }
  return {
    info: {
      path: f.path,
      formatVersion: version,
      createdAt,
      finishedAt: totals.finishedAt,
      sourceOptions,
      records,
      blocks: blocks.length,
      payloadBytes: payloadTotal,
      fileBytes: size,
      maxKeyLength,
      maxValueLength,
      entries: totals.entries,
      lastVersion: totals.lastVersion,
    },
    blocks,
  };
}
