/**
 * The snapshot file format: the only file that knows its byte offsets, and the
 * typed error every reader throws.
 *
 * A snapshot is a logical one: a stream of entries (key, value, absolute
 * expiry) from least to most recently used, not an image of the slabs. It can
 * therefore be loaded into a cache with other options (maxKeys, maxBytes, page
 * size, size classes) and by a later engine whose slab layout has changed.
 *
 * FILE LAYOUT (all integers little-endian)
 *
 *   <header> <block> <block> ... <block> <trailer>          then end of file
 *
 * HEADER (HEADER_FIXED_BYTES + n + 4 bytes)
 *    0  u8[8]  magic        "SLABSNAP"
 *    8  u32    version      FORMAT_VERSION; a reader refuses any other
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
 * RECORD (RECORD_FIXED_BYTES [+ 8] + keyLength + valueLength)
 *    0  u8     flags        RECORD_EXPIRES: an expiry follows;
 *                           RECORD_BINARY_KEY: the key was set as bytes;
 *                           RECORD_TEXT: the value was set as a string
 *    1  u16    keyLength
 *    3  u32    valueLength
 *    7  f64    expiresAt    ms since the Unix epoch (present iff RECORD_EXPIRES)
 *  ...  u8[]   key, then value, raw bytes exactly as the cache held them
 *
 * TRAILER (TRAILER_BYTES), written last: its presence proves the save finished
 *    0  u32    tag          TRAILER_TAG ("SEND")
 *    4  u32    trailerBytes TRAILER_BYTES
 *    8  f64    records      total over all blocks
 *   16  f64    blocks
 *   24  f64    payloadBytes total over all blocks
 *   32  f64    finishedAt   ms since the Unix epoch
 *   40  u32    maxKeyLength   longest key in the file (0 if none)
 *   44  u32    maxValueLength longest value in the file (0 if none)
 *   48  u32    chainCrc     crc32 chained over every block's 16-byte head, so
 *                           a block dropped, repeated or reordered is caught
 *   52  u32    crc          crc32 of bytes [0, 52) of the trailer
 *
 * A record may appear more than once (an entry used or changed while the save
 * ran is visited again at its new place): the later record wins.
 */

import { crc32 } from 'node:zlib';

export const MAGIC = Buffer.from('SLABSNAP', 'latin1');
export const FORMAT_VERSION = 1;

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

/* ---- record ---- */
/** Flag bit: the record carries an absolute expiry. */
export const RECORD_EXPIRES = 1;
/** Flag bit: the key was given as bytes, not as a string (iteration hands it back as bytes). */
export const RECORD_BINARY_KEY = 2;
/** Flag bit: the value was given as a string (reads hand it back as one). */
export const RECORD_TEXT = 4;
export const RECORD_KNOWN_FLAGS = RECORD_EXPIRES | RECORD_BINARY_KEY | RECORD_TEXT;
export const R_FLAGS = 0;
export const R_KEY_LENGTH = 1;
export const R_VALUE_LENGTH = 3;
export const R_EXPIRES_AT = 7;
export const RECORD_FIXED_BYTES = 7;
export const SIZEOF_EXPIRES_AT = 8;
export const MAX_RECORD_KEY_LENGTH = 0xffff;

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
export const T_CRC = 52;
export const TRAILER_BYTES = 56;

/** Bytes a record takes in a block payload. */
export function recordBytes(keyLength: number, valueLength: number, expires: boolean): number {
  return RECORD_FIXED_BYTES + (expires ? SIZEOF_EXPIRES_AT : 0) + keyLength + valueLength;
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
  trailer.writeUInt32LE(crc32(trailer.subarray(0, T_CRC)), T_CRC);
  return trailer;
}

export function decodeTrailer(trailer: Buffer): TrailerFields {
  return {
    records: trailer.readDoubleLE(T_RECORDS),
    blocks: trailer.readDoubleLE(T_BLOCKS),
    payloadBytes: trailer.readDoubleLE(T_PAYLOAD_BYTES),
    finishedAt: trailer.readDoubleLE(T_FINISHED_AT),
    maxKeyLength: trailer.readUInt32LE(T_MAX_KEY_LENGTH),
    maxValueLength: trailer.readUInt32LE(T_MAX_VALUE_LENGTH),
    chainCrc: trailer.readUInt32LE(T_CHAIN_CRC),
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
