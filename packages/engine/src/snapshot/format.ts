/**
 * The snapshot file format: the only file that knows its byte offsets, and the
 * typed error every reader throws.
 *
 * A snapshot is a logical one: a stream of records, oldest first (LRU: from
 * the least to the most recently used; SIEVE: from the queue's tail), not an
 * image of the slabs. It can therefore be loaded into a cache with other
 * options (maxKeys, maxBytes, page size, size classes) and by a later engine
 * whose slab layout has changed. Read in order, with the last word on each key
 * winning, the records describe the cache at one instant: when the saving walk
 * reached the head (walker.ts). A key deleted, evicted or cleared after its
 * record was written has a tombstone after it; an entry changed in place has
 * an update after it.
 *
 * FILE LAYOUT (all integers little-endian)
 *
 *   <header> <block> <block> ... <block> <trailer>          then end of file
 *
 * HEADER (HEADER_FIXED_BYTES + n + 4 bytes)
 *    0  u8[8]  magic        "SLABSNAP"
 *    8  u32    version      FORMAT_VERSION (2); version 1 files are still read
 *   12  u32    headerBytes  length of the whole header, checksum included
 *   16  f64    createdAt    ms since the Unix epoch, when the save began
 *   24  u32    n            length of the options JSON
 *   28  u8[n]  options      the source cache's ResolvedOptions, JSON, UTF-8
 * 28+n  u32    crc          zlib.crc32 of bytes [0, 28+n)
 *
 * BLOCK (BLOCK_HEAD_BYTES + payloadBytes), a bounded batch of records
 *    0  u32    tag          BLOCK_TAG ("SBLK")
 *    4  u32    payloadBytes
 *    8  u32    records      number of records in the payload
 *   12  u32    crc          crc32 of bytes [0, 12) continued over the payload
 *   16  ...    payload      `records` records, back to back, nothing else
 *
 * RECORD, version 2: a kind byte, then
 *   ENTRY, UPDATE (kinds 1, 2): an entry's whole state; an UPDATE restates an
 *   entry that changed without moving: it keeps the place of the entry's
 *   earlier record.
 *    1  u8     flags        E_* below
 *    2  u16    keyLength
 *    4  u32    valueLength
 *    8  f64    expiresAt    ms since the Unix epoch      (E_EXPIRES)
 *   +8  f64    version                                   (E_VERSION)
 *   +1  u8     metaLength, then the metadata bytes       (E_META)
 *  ...  u8[]   key, then value, raw bytes exactly as the cache held them
 *   TOMBSTONE (3): the key left the cache     1 u16 keyLength, 3 key
 *   CLEAR (4): every key left the cache       nothing more
 *   HAND (5): SIEVE's hand points at the key  1 u16 keyLength, 3 key
 *
 * RECORD, version 1 (read only): flags u8 (1 = an expiry follows), keyLength
 * u16, valueLength u32, [f64 expiresAt], key, value — an ENTRY.
 *
 * TRAILER (TRAILER_BYTES), written last: its presence proves the save finished
 *    0  u32    tag          TRAILER_TAG ("SEND")
 *    4  u32    trailerBytes TRAILER_BYTES (56 in version 1 files)
 *    8  f64    records      total over all blocks
 *   16  f64    blocks
 *   24  f64    payloadBytes total over all blocks
 *   32  f64    finishedAt   ms since the Unix epoch
 *   40  u32    maxKeyLength   longest key in the file (0 if none)
 *   44  u32    maxValueLength longest value in the file (0 if none)
 *   48  u32    chainCrc     crc32 chained over every block's 16-byte head, so
 *                           a block dropped, repeated or reordered is caught
 *   52  f64    entries      entries in the cache at the snapshot's instant    (v2)
 *   60  f64    lastVersion  the version counter at that instant               (v2)
 *   68  u32    crc          crc32 of bytes [0, 68) of the trailer (v1: [0, 52) at 52)
 */

import { crc32 } from 'node:zlib';

export const MAGIC = Buffer.from('SLABSNAP', 'latin1');
export const FORMAT_VERSION = 2;
/** The first format; still read (its records are ENTRY records without kind bytes). */
export const FORMAT_VERSION_1 = 1;

/* ---- header ---- */
export const H_MAGIC = 0;
export const H_VERSION = 8;
export const H_HEADER_BYTES = 12;
export const H_CREATED_AT = 16;
export const H_OPTIONS_LENGTH = 24;
export const H_OPTIONS = 28;
/** Header bytes before the options JSON. */
export const HEADER_FIXED_BYTES = H_OPTIONS;
export const SIZEOF_CRC = 4;
/** The options JSON is small (eight numbers); anything longer is not ours. */
export const MAX_OPTIONS_JSON_BYTES = 4096;

/* ---- block ---- */
/** "SBLK" read as a little-endian u32. */
export const BLOCK_TAG = 0x4b4c4253;
export const B_TAG = 0;
export const B_PAYLOAD_BYTES = 4;
export const B_RECORDS = 8;
export const B_CRC = 12;
export const BLOCK_HEAD_BYTES = 16;

/* ---- record (version 2) ---- */
export const KIND_ENTRY = 1;
export const KIND_UPDATE = 2;
export const KIND_TOMBSTONE = 3;
export const KIND_CLEAR = 4;
export const KIND_HAND = 5;

/** Entry flag: an expiry follows. */
export const E_EXPIRES = 1;
/** Entry flag: the key was set as bytes, not as a string. */
export const E_BINARY_KEY = 2;
/** Entry flag: the value was set as a string. */
export const E_TEXT = 4;
/** Entry flag: metadata follows. */
export const E_META = 8;
/** Entry flag: SIEVE's visited bit. */
export const E_VISITED = 16;
/** Entry flag: a version follows. */
export const E_VERSION = 32;
/** Entry flag: a text value is ASCII only (it decodes faster). */
export const E_ASCII = 64;
export const E_KNOWN = E_EXPIRES | E_BINARY_KEY | E_TEXT | E_META | E_VISITED | E_VERSION | E_ASCII;

export const R_KIND = 0;
export const R_FLAGS = 1;
export const R_KEY_LENGTH = 2;
export const R_VALUE_LENGTH = 4;
export const ENTRY_FIXED_BYTES = 8;
/** TOMBSTONE and HAND: kind, u16 key length, key. */
export const R_NOTE_KEY_LENGTH = 1;
export const NOTE_FIXED_BYTES = 3;
export const SIZEOF_F64 = 8;
export const MAX_RECORD_KEY_LENGTH = 0xffff;

/* ---- record (version 1) ---- */
export const V1_EXPIRES = 1;
export const V1_FLAGS = 0;
export const V1_KEY_LENGTH = 1;
export const V1_VALUE_LENGTH = 3;
export const V1_FIXED_BYTES = 7;

/* ---- trailer ---- */
/** "SEND" read as a little-endian u32. */
export const TRAILER_TAG = 0x444e4553;
export const T_TAG = 0;
export const T_TRAILER_BYTES = 4;
export const T_RECORDS = 8;
export const T_BLOCKS = 16;
export const T_PAYLOAD_BYTES = 24;
export const T_FINISHED_AT = 32;
export const T_MAX_KEY_LENGTH = 40;
export const T_MAX_VALUE_LENGTH = 44;
export const T_CHAIN_CRC = 48;
export const T_ENTRIES = 52;
export const T_LAST_VERSION = 60;
export const T_CRC = 68;
export const TRAILER_BYTES = 72;
export const TRAILER_BYTES_V1 = 56;
export const T_CRC_V1 = 52;

/** Bytes an ENTRY or UPDATE record takes. */
export function entryRecordBytes(keyLength: number, valueLength: number, flags: number, metaLength: number): number {
  return (
    ENTRY_FIXED_BYTES +
    ((flags & E_EXPIRES) !== 0 ? SIZEOF_F64 : 0) +
    ((flags & E_VERSION) !== 0 ? SIZEOF_F64 : 0) +
    ((flags & E_META) !== 0 ? 1 + metaLength : 0) +
    keyLength +
    valueLength
  );
}

/** The header: magic, version, creation time, the source options and its checksum. */
export function encodeHeader(createdAt: number, sourceOptions: object): Buffer {
  const json = Buffer.from(JSON.stringify(sourceOptions), 'utf8');
  const length = HEADER_FIXED_BYTES + json.length + SIZEOF_CRC;
  const header = Buffer.alloc(length);
  MAGIC.copy(header, H_MAGIC);
  header.writeUInt32LE(FORMAT_VERSION, H_VERSION);
  header.writeUInt32LE(length, H_HEADER_BYTES);
  header.writeDoubleLE(createdAt, H_CREATED_AT);
  header.writeUInt32LE(json.length, H_OPTIONS_LENGTH);
  json.copy(header, H_OPTIONS);
  header.writeUInt32LE(crc32(header.subarray(0, length - SIZEOF_CRC)), length - SIZEOF_CRC);
  return header;
}

/** Fills in a block's head (tag, sizes, checksum) in front of a payload already in place at BLOCK_HEAD_BYTES. */
export function sealBlock(block: Buffer, payloadBytes: number, records: number): number {
  block.writeUInt32LE(BLOCK_TAG, B_TAG);
  block.writeUInt32LE(payloadBytes, B_PAYLOAD_BYTES);
  block.writeUInt32LE(records, B_RECORDS);
  const crc = blockCrc(block, block, BLOCK_HEAD_BYTES, payloadBytes);
  block.writeUInt32LE(crc, B_CRC);
  return crc;
}

/** The checksum of a block: its first 12 head bytes, then its payload. */
export function blockCrc(head: Buffer, payload: Buffer, payloadStart: number, payloadBytes: number): number {
  return crc32(payload.subarray(payloadStart, payloadStart + payloadBytes), crc32(head.subarray(0, B_CRC)));
}

/** Continues the chain checksum over one block head (16 bytes, its own checksum included). */
export function chainBlock(chain: number, head: Buffer): number {
  return crc32(head.subarray(0, BLOCK_HEAD_BYTES), chain);
}

export interface TrailerFields {
  readonly records: number;
  readonly blocks: number;
  readonly payloadBytes: number;
  readonly finishedAt: number;
  readonly maxKeyLength: number;
  readonly maxValueLength: number;
  readonly chainCrc: number;
  /** Entries at the snapshot's instant; -1 in a version 1 file (unknown). */
  readonly entries: number;
  /** The version counter at that instant; 0 in a version 1 file. */
  readonly lastVersion: number;
}

export function encodeTrailer(t: TrailerFields): Buffer {
  const trailer = Buffer.alloc(TRAILER_BYTES);
  trailer.writeUInt32LE(TRAILER_TAG, T_TAG);
  trailer.writeUInt32LE(TRAILER_BYTES, T_TRAILER_BYTES);
  trailer.writeDoubleLE(t.records, T_RECORDS);
  trailer.writeDoubleLE(t.blocks, T_BLOCKS);
  trailer.writeDoubleLE(t.payloadBytes, T_PAYLOAD_BYTES);
  trailer.writeDoubleLE(t.finishedAt, T_FINISHED_AT);
  trailer.writeUInt32LE(t.maxKeyLength, T_MAX_KEY_LENGTH);
  trailer.writeUInt32LE(t.maxValueLength, T_MAX_VALUE_LENGTH);
  trailer.writeUInt32LE(t.chainCrc >>> 0, T_CHAIN_CRC);
  trailer.writeDoubleLE(t.entries, T_ENTRIES);
  trailer.writeDoubleLE(t.lastVersion, T_LAST_VERSION);
  trailer.writeUInt32LE(crc32(trailer.subarray(0, T_CRC)), T_CRC);
  return trailer;
}

/** The trailer's fields; `version` is the file's format version. */
export function decodeTrailer(trailer: Buffer, version: number): TrailerFields {
  return {
    records: trailer.readDoubleLE(T_RECORDS),
    blocks: trailer.readDoubleLE(T_BLOCKS),
    payloadBytes: trailer.readDoubleLE(T_PAYLOAD_BYTES),
    finishedAt: trailer.readDoubleLE(T_FINISHED_AT),
    maxKeyLength: trailer.readUInt32LE(T_MAX_KEY_LENGTH),
    maxValueLength: trailer.readUInt32LE(T_MAX_VALUE_LENGTH),
    chainCrc: trailer.readUInt32LE(T_CHAIN_CRC),
    entries: version === FORMAT_VERSION_1 ? -1 : trailer.readDoubleLE(T_ENTRIES),
    lastVersion: version === FORMAT_VERSION_1 ? 0 : trailer.readDoubleLE(T_LAST_VERSION),
  };
}

/* ---- errors ---- */

/**
 * Why a snapshot was refused or could not be written:
 *   ERR_SNAPSHOT_MISSING       no file at the path
 *   ERR_SNAPSHOT_FOREIGN       not a slabcache snapshot (wrong magic)
 *   ERR_SNAPSHOT_VERSION       a snapshot format this build does not read
 *   ERR_SNAPSHOT_TRUNCATED     the file ends before its trailer ends
 *   ERR_SNAPSHOT_CORRUPT       a checksum, length, tag or total does not match
 *   ERR_SNAPSHOT_INCOMPATIBLE  the entries do not fit the target cache's limits
 *   ERR_SNAPSHOT_BUSY          another save is walking this cache
 *   ERR_SNAPSHOT_OVERRUN       the cache changed faster than a save could note
 *                              (more than the walk log holds between two steps)
 *   ERR_SNAPSHOT_NOT_EMPTY     restore target already holds entries
 */
export type SnapshotErrorCode =
  | 'ERR_SNAPSHOT_MISSING'
  | 'ERR_SNAPSHOT_FOREIGN'
  | 'ERR_SNAPSHOT_VERSION'
  | 'ERR_SNAPSHOT_TRUNCATED'
  | 'ERR_SNAPSHOT_CORRUPT'
  | 'ERR_SNAPSHOT_INCOMPATIBLE'
  | 'ERR_SNAPSHOT_BUSY'
  | 'ERR_SNAPSHOT_OVERRUN'
  | 'ERR_SNAPSHOT_NOT_EMPTY';

/** A refused or failed snapshot; `offset` is the byte where reading went wrong (-1 when not about a place). */
export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';

  constructor(
    readonly code: SnapshotErrorCode,
    readonly path: string,
    readonly offset: number,
    detail: string,
  ) {
    super(`snapshot ${path}: ${detail}${offset >= 0 ? ` (at byte ${offset})` : ''}`);
  }
}
