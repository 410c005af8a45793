/**
 * A reference model of S3-FIFO (Yang, Zhang, Qiu, Yue, Rashmi, SOSP '23), as
 * libCacheSim runs it, written from the paper and libCacheSim's description of
 * its variant. Not an engine policy: the hit-ratio benchmark replays the traces
 * through it to show what a third policy would change.
 *
 *   three FIFO queues: small (10 % of the capacity), main (the rest) and a
 *   ghost (90 % of the capacity) that remembers keys without their values
 *
 *   lookup   in small or main: freq += 1 (a hit never moves an entry);
 *            a miss that finds the key in the ghost takes it out and marks
 *            the next insert of that key for main
 *   insert   a ghost hit goes to main; any other key goes to small, except
 *            that until the first eviction a full small queue sends new
 *            keys to main (libCacheSim's S3FIFO.c; its S3FIFOv0.c, the paper's
 *            original, always uses small: `fillMainFirst: false`)
 *   evict    from main when it is over its share or small is empty, else
 *            from small
 *     small: the oldest entry with freq ≥ 2 moves to main (freq 0), one with
 *            less leaves the cache for the ghost; repeat until one has left
 *     main:  the oldest entry with freq ≥ 1 goes back to main's head with
 *            freq min(freq, 3) − 1, one with freq 0 leaves; repeat until one
 *            has left
 *
 * Bounded by entry count (`capacity` entries, each of size 1) or by bytes
 * (`capacity` bytes, each entry its `size`). An object larger than the small
 * queue is never admitted. A JS Map is a FIFO here: its iteration order is
 * insertion order, and its first key is the oldest.
 */

interface Entry {
  readonly size: number;
  freq: number;
}

/** One FIFO queue and the bytes (or entries) it holds. */
class Fifo<T> {
  readonly items = new Map<string, T>();
  used = 0;

  push(key: string, item: T, size: number): void {
    this.items.set(key, item);
    this.used += size;
  }

  /** The oldest key; the queue is not empty. */
  oldest(): string {
    return this.items.keys().next().value!;
  }

  remove(key: string, size: number): void {
    this.items.delete(key);
    this.used -= size;
  }
}

export class S3FifoModel {
  readonly #small = new Fifo<Entry>();
  readonly #main = new Fifo<Entry>();
  /** Keys evicted from small, with their sizes. */
  readonly #ghost = new Fifo<number>();
  readonly #smallCapacity: number;
  readonly #mainCapacity: number;
  readonly #ghostCapacity: number;
  readonly #fillMainFirst: boolean;
  #hitOnGhost = false;
  #hasEvicted = false;
  /** Keys evicted, in order. */
  readonly evicted: string[] = [];

  constructor(
    readonly capacity: number,
    readonly bounded: 'entries' | 'bytes' = 'entries',
    options: { readonly fillMainFirst?: boolean } = {},
  ) {
    this.#smallCapacity = Math.floor(capacity * 0.1);
    this.#mainCapacity = capacity - this.#smallCapacity;
    this.#ghostCapacity = Math.floor(capacity * 0.9);
    this.#fillMainFirst = options.fillMainFirst ?? true;
  }

  get size(): number {
    return this.#small.items.size + this.#main.items.size;
  }

  /** Counts a hit (freq += 1); returns whether the key was cached. A miss remembers a ghost hit for the next `set`. */
  get(key: string): boolean {
    this.#hitOnGhost = false;
    const small = this.#small.items.get(key);
    if (small !== undefined) {
      small.freq++;
      return true;
    }
    const ghostSize = this.#ghost.items.get(key);
    if (ghostSize !== undefined) {
      this.#ghost.remove(key, ghostSize);
      this.#hitOnGhost = true;
    }
    const main = this.#main.items.get(key);
    if (main !== undefined) {
      main.freq++;
      return true;
    }
    return false;
  }

  /** Inserts a key that the `get` just before it missed, evicting as needed. */
  set(key: string, size = 1): void {
    const cost = this.bounded === 'entries' ? 1 : size;
    if (cost >= this.#smallCapacity || cost > this.capacity) return; // never admitted
    while (this.#small.used + this.#main.used + cost > this.capacity) this.#evict();
    const entry: Entry = { size: cost, freq: 0 };
    if (this.#hitOnGhost) {
      this.#hitOnGhost = false;
      this.#main.push(key, entry, cost);
    } else if (this.#fillMainFirst && !this.#hasEvicted && this.#small.used >= this.#smallCapacity) {
      this.#main.push(key, entry, cost);
    } else {
      this.#small.push(key, entry, cost);
    }
  }

  #evict(): void {
    this.#hasEvicted = true;
    if (this.#main.used > this.#mainCapacity || this.#small.used === 0) this.#evictMain();
    else this.#evictSmall();
  }

  #evictSmall(): void {
    for (;;) {
      const key = this.#small.oldest();
      const entry = this.#small.items.get(key)!;
      this.#small.remove(key, entry.size);
      if (entry.freq >= 2) {
        this.#main.push(key, { size: entry.size, freq: 0 }, entry.size);
        if (this.#small.used === 0) return;
        continue;
      }
      this.#remember(key, entry.size);
      this.evicted.push(key);
      return;
    }
  }

  #evictMain(): void {
    for (;;) {
      const key = this.#main.oldest();
      const entry = this.#main.items.get(key)!;
      this.#main.remove(key, entry.size);
      if (entry.freq >= 1) {
        this.#main.push(key, { size: entry.size, freq: Math.min(entry.freq, 3) - 1 }, entry.size);
        continue;
      }
      this.evicted.push(key);
      return;
    }
  }

  /** Adds an evicted key to the ghost, dropping its oldest keys to make room. */
  #remember(key: string, size: number): void {
    if (size > this.#ghostCapacity) return;
    while (this.#ghost.used + size > this.#ghostCapacity) {
      const oldest = this.#ghost.oldest();
      this.#ghost.remove(oldest, this.#ghost.items.get(oldest)!);
    }
    this.#ghost.push(key, size, size);
  }
}
