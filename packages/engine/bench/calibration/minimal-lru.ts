/**
 * A calibration prototype, not part of the engine: the least an off-heap exact
 * LRU cache of string keys and values can do, to measure what this machine
 * allows before any feature costs anything (bench/calibrate.ts runs it beside
 * the engine and lru-cache). It answers one question: is a gap between the
 * engine and a target our per-operation work, or the memory system's?
 *
 * What it leaves out, on purpose: TTL, stats, byte bounds, size classes,
 * threads, snapshots, binary keys and values, non-ASCII text, dispose.
 *
 * RECORD LAYOUT (one SharedArrayBuffer, fixed RECORD_BYTES per entry; entry
 * `id` starts at byte id × RECORD_BYTES)
 *   0  i32  prev    id of the more recent neighbour, NIL at the head
 *   4  i32  next    id of the less recent neighbour, NIL at the tail
 *   8  u8   keyLen
 *   9  u8   valueLen
 *  10       key bytes, then value bytes (Latin-1; the caller passes ASCII)
 *
 * INDEX: a power-of-two table of [hash u32, id + 1 u32] slots (0: empty),
 * at most 3/4 full, linear probing from `hash & mask`, backward-shift delete.
 * An evicted entry's slot is found by hashing its key again from the record.
 */

import { hashAscii, hashBytes } from '../../src/hash.js';

const RECORD_BYTES = 128;
const RECORD_WORDS = RECORD_BYTES / 4;
const HEADER_BYTES = 10;
const NIL = -1;
const SEED = 0x9747b28c;

/** Node's Buffer has Latin-1 fast paths it does not declare in its types. */
interface Latin1Buffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  latin1Write(text: string, offset: number, length: number): number;
}

/** The engine's own key hash (MurmurHash3), so that hashing costs the same on both sides of the comparison. */
const hashString = (key: string): number => hashAscii(key, SEED);
const hashRecordKey = (bytes: Uint8Array, start: number, length: number): number => hashBytes(bytes, start, length, SEED);

export class MinimalLru {
  readonly #bytes: Latin1Buffer;
  readonly #words: Int32Array;
  readonly #index: Uint32Array;
  readonly #mask: number;
  readonly #max: number;
  #count = 0;
  #head = NIL;
  #tail = NIL;

  constructor(maxKeys: number) {
    const records = new SharedArrayBuffer(maxKeys * RECORD_BYTES);
    this.#bytes = Buffer.from(records) as Latin1Buffer;
    this.#words = new Int32Array(records);
    let slots = 1;
    while (slots * 3 < maxKeys * 4) slots *= 2;
    this.#index = new Uint32Array(new SharedArrayBuffer(slots * 8));
    this.#mask = slots - 1;
    this.#max = maxKeys;
  }

  get size(): number {
    return this.#count;
  }

  get(key: string): string | undefined {
    const id = this.#hit(key);
    return id < 0 ? undefined : this.#bytes.latin1Slice(this.#valueStart(id), this.#valueEnd(id));
  }

  getBytes(key: string): Buffer | undefined {
    const id = this.#hit(key);
    return id < 0 ? undefined : Buffer.from(this.#bytes.subarray(this.#valueStart(id), this.#valueEnd(id)));
  }

  /** The record of `key`, made the most recent; -1 if absent. */
  #hit(key: string): number {
    const slot = this.#find(key, hashString(key));
    if (slot < 0) return -1;
    const id = this.#index[slot * 2 + 1]! - 1;
    this.#toHead(id);
    return id;
  }

  #valueStart(id: number): number {
    return id * RECORD_BYTES + HEADER_BYTES + this.#bytes[id * RECORD_BYTES + 8]!;
  }

  #valueEnd(id: number): number {
    return this.#valueStart(id) + this.#bytes[id * RECORD_BYTES + 9]!;
  }

  set(key: string, value: string): void {
    if (HEADER_BYTES + key.length + value.length > RECORD_BYTES) throw new RangeError('key and value do not fit a record');
    const hash = hashString(key);
    if (hash < 0) throw new RangeError('keys must be ASCII');
    const slot = this.#find(key, hash);
    let id: number;
    if (slot >= 0) {
      id = this.#index[slot * 2 + 1]! - 1;
      this.#toHead(id);
    } else {
      if (this.#count === this.#max) {
        id = this.#tail;
        this.#unlink(id);
        this.#removeSlot(this.#slotOfRecord(id));
      } else {
        id = this.#count++;
      }
      this.#insertSlot(hash, id);
      this.#pushHead(id);
    }
    const at = id * RECORD_BYTES;
    this.#bytes[at + 8] = key.length;
    this.#bytes[at + 9] = value.length;
    for (let i = 0; i < key.length; i++) this.#bytes[at + HEADER_BYTES + i] = key.charCodeAt(i);
    this.#bytes.latin1Write(value, at + HEADER_BYTES + key.length, value.length);
  }

  /* ---- index ---- */

  #find(key: string, hash: number): number {
    const index = this.#index;
    for (let slot = hash & this.#mask; ; slot = (slot + 1) & this.#mask) {
      const id1 = index[slot * 2 + 1]!;
      if (id1 === 0) return NIL;
      if (index[slot * 2] === hash && this.#keyIs(id1 - 1, key)) return slot;
    }
  }

  #keyIs(id: number, key: string): boolean {
    const at = id * RECORD_BYTES;
    if (this.#bytes[at + 8] !== key.length) return false;
    for (let i = 0; i < key.length; i++) if (this.#bytes[at + HEADER_BYTES + i] !== key.charCodeAt(i)) return false;
    return true;
  }

  #slotOfRecord(id: number): number {
    const hash = hashRecordKey(this.#bytes, id * RECORD_BYTES + HEADER_BYTES, this.#bytes[id * RECORD_BYTES + 8]!);
    let slot = hash & this.#mask;
    while (this.#index[slot * 2 + 1] !== id + 1) slot = (slot + 1) & this.#mask;
    return slot;
  }

  #insertSlot(hash: number, id: number): void {
    let slot = hash & this.#mask;
    while (this.#index[slot * 2 + 1] !== 0) slot = (slot + 1) & this.#mask;
    this.#index[slot * 2] = hash;
    this.#index[slot * 2 + 1] = id + 1;
  }

  /** Backward-shift delete: an entry after the hole moves into it unless its home lies between the hole and it. */
  #removeSlot(slot: number): void {
    const index = this.#index;
    const mask = this.#mask;
    let hole = slot;
    for (let j = (hole + 1) & mask; index[j * 2 + 1] !== 0; j = (j + 1) & mask) {
      const home = index[j * 2]! & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        index[hole * 2] = index[j * 2]!;
        index[hole * 2 + 1] = index[j * 2 + 1]!;
        hole = j;
      }
    }
    index[hole * 2] = 0;
    index[hole * 2 + 1] = 0;
  }

  /* ---- recency list ---- */

  #toHead(id: number): void {
    if (id === this.#head) return;
    this.#unlink(id);
    this.#pushHead(id);
  }

  #unlink(id: number): void {
    const words = this.#words;
    const prev = words[id * RECORD_WORDS]!;
    const next = words[id * RECORD_WORDS + 1]!;
    if (prev === NIL) this.#head = next;
    else words[prev * RECORD_WORDS + 1] = next;
    if (next === NIL) this.#tail = prev;
    else words[next * RECORD_WORDS] = prev;
  }

  #pushHead(id: number): void {
    const words = this.#words;
    words[id * RECORD_WORDS] = NIL;
    words[id * RECORD_WORDS + 1] = this.#head;
    if (this.#head !== NIL) words[this.#head * RECORD_WORDS] = id;
    else this.#tail = id;
    this.#head = id;
  }
}
