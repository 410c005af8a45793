/**
 * A tiny reference model of SIEVE (Zhang et al., NSDI '24), written from the
 * paper's pseudo-code and nothing else: a FIFO queue of nodes (newest at the
 * head), a visited bit per node, and a hand that sweeps from the tail toward
 * the head, wrapping around, and rests where it stopped. Bounded by entry
 * count (`capacity` entries) or by bytes (`capacity` bytes, each entry its
 * `size`). Used to check the engine's `sieve` policy, hit for hit and
 * eviction for eviction.
 */

interface Node {
  key: string;
  size: number;
  visited: boolean;
  prev: Node | undefined; // toward the head (newer)
  next: Node | undefined; // toward the tail (older)
}

export class SieveModel {
  readonly #nodes = new Map<string, Node>();
  #head: Node | undefined;
  #tail: Node | undefined;
  #hand: Node | undefined;
  #used = 0;
  /** Keys evicted, in order. */
  readonly evicted: string[] = [];

  constructor(
    readonly capacity: number,
    readonly bounded: 'entries' | 'bytes' = 'entries',
  ) {}

  get size(): number {
    return this.#nodes.size;
  }

  has(key: string): boolean {
    return this.#nodes.has(key);
  }

  /** A hit sets the visited bit; returns whether the key was cached. */
  get(key: string): boolean {
    const node = this.#nodes.get(key);
    if (node === undefined) return false;
    node.visited = true;
    return true;
  }

  /**
   * Inserts a new key (evicting as needed), or, for a cached key, counts as a
   * hit; bounded by bytes, a cached key takes its new size, and if the cache
   * is then over capacity the hand evicts until it is not (the key itself,
   * just visited, only goes once everything else has).
   */
  set(key: string, size = 1): void {
    const cost = this.bounded === 'entries' ? 1 : size;
    const node = this.#nodes.get(key);
    if (node !== undefined) {
      node.visited = true;
      this.#used += cost - node.size;
      node.size = cost;
      while (this.#used > this.capacity) this.#evict();
      return;
    }
    if (cost > this.capacity) return; // can never fit (libCacheSim does not insert it)
    while (this.#used + cost > this.capacity) this.#evict();
    const added: Node = { key, size: cost, visited: false, prev: undefined, next: this.#head };
    if (this.#head !== undefined) this.#head.prev = added;
    this.#head = added;
    if (this.#tail === undefined) this.#tail = added;
    this.#nodes.set(key, added);
    this.#used += cost;
  }

  delete(key: string): boolean {
    const node = this.#nodes.get(key);
    if (node === undefined) return false;
    if (this.#hand === node) this.#hand = node.prev;
    this.#unlink(node);
    return true;
  }

  /** Keys from the head (newest) to the tail. */
  keys(): string[] {
    const out: string[] = [];
    for (let n = this.#head; n !== undefined; n = n.next) out.push(n.key);
    return out;
  }

  #evict(): void {
    let obj = this.#hand ?? this.#tail!;
    while (obj.visited) {
      obj.visited = false;
      obj = obj.prev ?? this.#tail!;
    }
    this.#hand = obj.prev;
    this.evicted.push(obj.key);
    this.#unlink(obj);
  }

  #unlink(node: Node): void {
    if (node.prev !== undefined) node.prev.next = node.next;
    else this.#head = node.next;
    if (node.next !== undefined) node.next.prev = node.prev;
    else this.#tail = node.prev;
    this.#nodes.delete(node.key);
    this.#used -= node.size;
  }
}
