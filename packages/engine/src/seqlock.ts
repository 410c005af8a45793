/**
 * Striped sequence locks: how threads read a shared SIEVE cache without its
 * lock, in parallel, and never return torn data.
 *
 * The index is cut into stripes of STRIPE_SLOTS consecutive slots, each with a
 * sequence number in shared memory, plus one epoch for the whole cache. A
 * writer (always holding the cache lock, lock.ts) makes a stripe's number odd
 * before it changes anything a reader of that stripe could see — an index slot
 * in it, or the chunk of an entry indexed in it — and even again once the
 * operation is over (`publish`, called before the lock is released). A reader
 * takes no lock:
 *
 *   s = sequence of the stripe(s) its probe will read   (odd: a writer is in it; retry)
 *   probe the index, compare the key, copy the value out, checking every
 *     length and offset it reads against the arena (torn data must not crash it)
 *   if the sequence is still s, nothing it read changed: the copy is good;
 *   else throw the copy away and retry (after a few tries, take the lock).
 *
 * A hit on an entry whose visited bit is not yet set must write that bit (a
 * "hint": SIEVE's visited bit, memcached's fetched bit). Once the read is over,
 * a writer may free the entry's chunk and carve its page into another class's
 * chunks, where a bit written blindly would land in another entry's key or
 * value. So a reader writes a hint inside a window announced in its own slot:
 *
 *   reader                                   writer, before it carves a page or starts a walk
 *   slot += 1               (announce)       stripe/epoch sequence += 1   (touch, already done)
 *   sequence still s?  then OR the bits      wait until every slot is 0
 *   slot -= 1
 *
 * Both sides write their word, then read the other's (sequentially consistent
 * Atomics: Dekker's handshake), so at least one sees the other: either the
 * reader finds the sequence changed and writes nothing, or the writer sees the
 * announcement and waits until the bits are in, before the page holds another
 * class's chunks. A page that stays in its class reuses chunks at the same
 * offsets, so a late hint there lands in another entry's flags byte, or a free
 * chunk's (where only F_LIVE is read): a spurious visited bit, never torn data.
 * Later hits find the bits set and write nothing.
 *
 * Why stripes: a writer only invalidates readers of the index region it
 * touched, so with a 10 % write load the two threads' reads almost never
 * collide. An entry's chunk is only reachable through its index slot, and a
 * chunk is only freed, moved or rewritten by an operation that also writes
 * (or touches) that slot, so guarding slots guards chunks. `clear()` bumps the
 * epoch instead, which every reader checks.
 *
 * Only SIEVE caches read this way (a hit there writes one bit, never the
 * list); an LRU hit relinks the list, so LRU stays serialized under the lock.
 *
 * LAYOUT of the shared buffer (i32 words):
 *   [0, stripes)        stripe sequences
 *   stripes             the epoch
 *   stripes + 1         hint-writer slots handed out so far (attach order)
 *   from the next 64-byte boundary, HINT_SLOTS slots of 16 words (one cache
 *   line each, so readers never share a line):
 *     word 0  hint writes under way in this slot (0 or 1; more when over
 *             HINT_SLOTS instances share a slot)
 *     word 1  thread id + 1 of the slot's last user (for the timeout message)
 */

import { threadId } from 'node:worker_threads';
import { LockTimeoutError } from './lock.js';

/** Index slots per stripe: 4,096 slots = 32 KiB of index. */
export const STRIPE_SHIFT = 12;
export const STRIPE_SLOTS = 1 << STRIPE_SHIFT;

export function stripeCount(indexSlots: number): number {
  return Math.ceil(indexSlots / STRIPE_SLOTS);
}

/** Hint-writer slots: instances beyond this many share slots (correct, only less precise). */
export const HINT_SLOTS = 64;
const SLOT_WORDS = 16;
/** Busy checks of a slot before the writer starts sleeping between checks: a hint write takes nanoseconds. */
const HINT_SPINS = 1000;

function firstSlotWord(stripes: number): number {
  return Math.ceil((stripes + 2) / SLOT_WORDS) * SLOT_WORDS;
}

export class StripedSeqlock {
  readonly #seq: Int32Array;
  readonly #epoch: number;
  /** Stripes this thread has made odd in the operation under way, and a mark per stripe to list each once. */
  readonly #dirty: Int32Array;
  #dirtyCount = 0;
  readonly #marked: Uint8Array;
  /** All words of the buffer: the hint-writer slots live after the sequences. */
  readonly #words: Int32Array;
  readonly #slotCounter: number;
  readonly #firstSlot: number;
  /** This instance's hint-writer slot (a word index), or -1 before `claimHintSlot`. */
  #hintSlot = -1;
  readonly #timeoutMs: number;

  constructor(buffer: SharedArrayBuffer, stripes: number, timeoutMs: number) {
    this.#seq = new Int32Array(buffer, 0, stripes + 1);
    this.#words = new Int32Array(buffer);
    this.#epoch = stripes;
    this.#slotCounter = stripes + 1;
    this.#firstSlot = firstSlotWord(stripes);
    this.#dirty = new Int32Array(stripes + 1);
    this.#marked = new Uint8Array(stripes + 1);
    this.#timeoutMs = timeoutMs;
  }

  static bytesFor(stripes: number): number {
    return (firstSlotWord(stripes) + HINT_SLOTS * SLOT_WORDS) * 4;
  }

  /* ---- writers (holding the cache lock) ---- */

  /** Index slot `slot` (or the chunk indexed there) is about to change. */
  touch(slot: number): void {
    this.#mark(slot >>> STRIPE_SHIFT);
  }

  /** Everything is about to change (clear). */
  touchAll(): void {
    this.#mark(this.#epoch);
  }

  #mark(stripe: number): void {
    if (this.#marked[stripe] !== 0) return;
    this.#marked[stripe] = 1;
    this.#dirty[this.#dirtyCount++] = stripe;
    // Odd: readers of this stripe see that a change is under way.
    Atomics.add(this.#seq, stripe, 1);
  }

  /** The operation is over: every stripe it touched is even again (publish the change). */
  publish(): void {
    for (let i = 0; i < this.#dirtyCount; i++) {
      const stripe = this.#dirty[i]!;
      Atomics.add(this.#seq, stripe, 1);
      this.#marked[stripe] = 0;
    }
    this.#dirtyCount = 0;
  }

  /* ---- readers (no lock) ---- */

  stripeOf(slot: number): number {
    return slot >>> STRIPE_SHIFT;
  }

  /** The stripe's sequence now, or -1 while a writer is in it. */
  begin(stripe: number): number {
    const seq = Atomics.load(this.#seq, stripe);
    return (seq & 1) === 0 ? seq : -1;
  }

  beginEpoch(): number {
    return this.begin(this.#epoch);
  }

  /** True when nothing changed in the stripe since `begin` returned `seq`. */
  unchanged(stripe: number, seq: number): boolean {
    return Atomics.load(this.#seq, stripe) === seq;
  }

  unchangedEpoch(seq: number): boolean {
    return this.unchanged(this.#epoch, seq);
  }

  /**
   * True when nothing a read began with `begin` could see has changed: its
   * stripe, its probe's second stripe (the same one, for most probes: then it
   * is read once) and the epoch.
   */
  stillValid(stripe: number, seq: number, stripe2: number, seq2: number, epochSeq: number): boolean {
    return this.unchanged(stripe, seq) && (stripe2 === stripe || this.unchanged(stripe2, seq2)) && this.unchangedEpoch(epochSeq);
  }

  /* ---- hint writes (readers' bits, and the writers that must wait for them) ---- */

  /** Gives this instance a hint-writer slot; call once, before its first lock-free read. */
  claimHintSlot(): void {
    if (this.#hintSlot >= 0) return;
    const n = Atomics.add(this.#words, this.#slotCounter, 1);
    this.#hintSlot = this.#firstSlot + (n % HINT_SLOTS) * SLOT_WORDS;
    Atomics.store(this.#words, this.#hintSlot + 1, threadId + 1);
  }

  /**
   * ORs `bits` into `bytes[at]` if nothing a read begun with `begin` could see
   * has changed (see the handshake above); false when it changed and nothing
   * was written (the read must be redone).
   */
  orIfStillValid(
    stripe: number,
    seq: number,
    stripe2: number,
    seq2: number,
    epochSeq: number,
    bytes: Uint8Array,
    at: number,
    bits: number,
  ): boolean {
    this.enterHintWrite();
    const valid = this.stillValid(stripe, seq, stripe2, seq2, epochSeq);
    if (valid) Atomics.or(bytes, at, bits);
    this.leaveHintWrite();
    return valid;
  }

  /** Announces a hint write in this instance's slot (the reader's first step of the handshake). */
  enterHintWrite(): void {
    Atomics.add(this.#words, this.#hintSlot, 1);
  }

  leaveHintWrite(): void {
    Atomics.sub(this.#words, this.#hintSlot, 1);
  }

  /**
   * Writer, holding the cache lock, after touching what it changes: returns
   * once no reader is inside a hint write begun before now. A reader that died
   * inside one (a terminated worker) would hold every carving writer for ever;
   * after the lock timeout this throws a LockTimeoutError naming its thread.
   */
  waitForHintWriters(): void {
    const words = this.#words;
    const used = Math.min(Atomics.load(words, this.#slotCounter), HINT_SLOTS);
    for (let i = 0; i < used; i++) {
      const slot = this.#firstSlot + i * SLOT_WORDS;
      if (Atomics.load(words, slot) === 0) continue;
      let deadline = 0;
      for (let spins = 0; Atomics.load(words, slot) !== 0; spins++) {
        if (spins < HINT_SPINS) continue;
        const now = performance.now();
        if (deadline === 0) deadline = now + this.#timeoutMs;
        else if (now >= deadline) throw new LockTimeoutError(this.#timeoutMs, Atomics.load(words, slot + 1) - 1, 'hint-writer slot');
        // The reader was descheduled mid-write: sleep a little instead of burning the core it needs.
        Atomics.wait(words, this.#slotCounter, Atomics.load(words, this.#slotCounter), 0.05);
      }
    }
  }
}
