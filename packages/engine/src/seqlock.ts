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
 * A hit on an entry whose visited bit is not yet set must write that bit. It
 * does so under the lock, and only if the sequence is still s: once the read is
 * over, a writer may free the entry's chunk and carve its page into another
 * class's chunks, where a bit written blindly would land in another entry's
 * bytes. Later hits find the bit set and write nothing.
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
 * LAYOUT of the shared buffer: i32 × (stripes + 1): stripe sequences, then the epoch.
 */

/** Index slots per stripe: 4,096 slots = 32 KiB of index. */
export const STRIPE_SHIFT = 12;
export const STRIPE_SLOTS = 1 << STRIPE_SHIFT;

export function stripeCount(indexSlots: number): number {
  return Math.ceil(indexSlots / STRIPE_SLOTS);
}

export class StripedSeqlock {
  readonly #seq: Int32Array;
  readonly #epoch: number;
  /** Stripes this thread has made odd in the operation under way, and a mark per stripe to list each once. */
  readonly #dirty: Int32Array;
  #dirtyCount = 0;
  readonly #marked: Uint8Array;

  constructor(buffer: SharedArrayBuffer, stripes: number) {
    this.#seq = new Int32Array(buffer, 0, stripes + 1);
    this.#epoch = stripes;
    this.#dirty = new Int32Array(stripes + 1);
    this.#marked = new Uint8Array(stripes + 1);
  }

  static bytesFor(stripes: number): number {
    return (stripes + 1) * 4;
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
}
