/**
 * The walk log: what changed behind a snapshot walk's cursor.
 *
 * A snapshot walks the recency list over many event-loop turns while the cache
 * keeps serving (cache.ts, "snapshot walk"). An entry the walk has already
 * written can change before the walk ends; for the snapshot to hold exactly
 * the state at its end, each such change leaves a note here, and the walker
 * turns the notes into records at its next step:
 *
 *   TOMBSTONE(key)  the entry left the cache (deleted, evicted, expired, or,
 *                   with LRU, replaced by an entry in another size class)
 *   TOUCHED(key)    the entry changed without moving (SIEVE: a set, in its
 *                   chunk or in one of another size class, its visited bit
 *                   set by a hit or cleared by the hand); the
 *                   walker writes its whole current state as an update
 *   CLEAR           every entry left
 *
 * An LRU hit or set needs no note: it moves the entry ahead of the cursor, and
 * the walk writes it again. Notes are taken only while a walk runs, for every
 * such change (the walk cannot tell cheaply which entries it has passed):
 * a note about an entry not yet written is harmless.
 *
 * LAYOUT of the shared buffer (u32 words, then bytes), written under the cache lock:
 *    0  u32  usedBytes   bytes of notes after the header
 *    4  u32  overflowed  1 once a note did not fit: this walk cannot be exact
 *    8  ...  notes, back to back:
 *              u8 kind, then for TOMBSTONE and TOUCHED: u16 keyLength, key bytes
 * The walker drains everything at each step, so the log only has to hold the
 * changes of one event-loop turn; past WALK_LOG_BYTES the walk is marked
 * overflowed and the save fails rather than write an inexact snapshot.
 */

export const WALK_LOG_BYTES = 4 << 20;
const W_USED = 0;
const W_OVERFLOWED = 1;
const HEADER_BYTES = 8;

export const NOTE_TOMBSTONE = 1;
export const NOTE_TOUCHED = 2;
export const NOTE_CLEAR = 3;

/** Receives the notes of a drain, in order. Key bytes are a range of `bytes`, valid during the call. */
export interface NoteReader {
  tombstone(bytes: Buffer, keyStart: number, keyLength: number): void;
  touched(bytes: Buffer, keyStart: number, keyLength: number): void;
  clear(): void;
}

export class WalkLog {
  readonly #words: Uint32Array;
  readonly #bytes: Buffer;

  constructor(buffer: SharedArrayBuffer) {
    this.#words = new Uint32Array(buffer, 0, 2);
    this.#bytes = Buffer.from(buffer);
  }

  /** Empties the log for a new walk. */
  reset(): void {
    this.#words[W_USED] = 0;
    this.#words[W_OVERFLOWED] = 0;
  }

  get overflowed(): boolean {
    return this.#words[W_OVERFLOWED] !== 0;
  }

  /** Notes a change to the entry whose key is `source[keyStart, keyStart + keyLength)`. */
  note(kind: typeof NOTE_TOMBSTONE | typeof NOTE_TOUCHED, source: Uint8Array, keyStart: number, keyLength: number): void {
    const at = HEADER_BYTES + this.#words[W_USED]!;
    if (at + 3 + keyLength > this.#bytes.length) {
      this.#words[W_OVERFLOWED] = 1;
      return;
    }
    const bytes = this.#bytes;
    bytes[at] = kind;
    bytes[at + 1] = keyLength & 0xff;
    bytes[at + 2] = keyLength >>> 8;
    bytes.set(source.subarray(keyStart, keyStart + keyLength), at + 3);
    this.#words[W_USED] = at + 3 + keyLength - HEADER_BYTES;
  }

  noteClear(): void {
    const at = HEADER_BYTES + this.#words[W_USED]!;
    if (at + 1 > this.#bytes.length) {
      this.#words[W_OVERFLOWED] = 1;
      return;
    }
    this.#bytes[at] = NOTE_CLEAR;
    this.#words[W_USED] = at + 1 - HEADER_BYTES;
  }

  /** Hands every note to `reader`, oldest first, then empties the log. */
  drain(reader: NoteReader): void {
    const bytes = this.#bytes;
    const end = HEADER_BYTES + this.#words[W_USED]!;
    for (let at = HEADER_BYTES; at < end; ) {
      const kind = bytes[at]!;
      if (kind === NOTE_CLEAR) {
        reader.clear();
        at += 1;
        continue;
      }
      const keyLength = bytes[at + 1]! | (bytes[at + 2]! << 8);
      if (kind === NOTE_TOMBSTONE) reader.tombstone(bytes, at + 3, keyLength);
      else reader.touched(bytes, at + 3, keyLength);
      at += 3 + keyLength;
    }
    this.#words[W_USED] = 0;
  }
}
