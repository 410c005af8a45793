/**
 * Which node holds a key, when the client is given several (`nodes`):
 * rendezvous hashing (highest random weight, Thaler & Ravishankar 1996), a
 * consistent hashing scheme with no ring to build.
 *
 *   score(node, key) = XXH32(key bytes, seed = XXH32(node URL))
 *   the key's nodes, best first = the nodes sorted by score, highest first
 *
 * Every client with the same node list sends a key to the same node, whatever
 * order the list is in. When a node goes away, only its keys move, and they
 * spread evenly over the others (each key to its second-best node); when it
 * comes back, exactly those keys return. XXH32 comes from `xxhash-wasm`
 * (README.md says why), which loads its WebAssembly module asynchronously:
 * `load()` is awaited once before the first routed call.
 */

import xxhash from 'xxhash-wasm';

type Hash32 = (bytes: Uint8Array, seed?: number) => number;

let loading: Promise<Hash32> | undefined;

/** XXH32 over bytes, loaded once per process. */
export function loadHash32(): Promise<Hash32> {
  loading ??= xxhash().then((api) => api.h32Raw);
  return loading;
}

const encoder = new TextEncoder();

export class Rendezvous {
  readonly #hash: Hash32;
  readonly #seeds: Uint32Array;
  readonly nodes: readonly string[];

  constructor(nodes: readonly string[], hash: Hash32) {
    this.nodes = nodes;
    this.#hash = hash;
    this.#seeds = Uint32Array.from(nodes, (node) => hash(encoder.encode(node), 0));
  }

  /** The index of the node with the highest score for `key` among those `usable` says yes to; -1 if none. */
  best(key: string, usable: (node: number) => boolean): number {
    const bytes = encoder.encode(key);
    const hash = this.#hash;
    const seeds = this.#seeds;
    let best = -1;
    let bestScore = -1;
    for (let n = 0; n < seeds.length; n++) {
      if (!usable(n)) continue;
      const score = hash(bytes, seeds[n]);
      // A tie (1 in 2^32) goes to the smaller seed, so that the order of the list never matters.
      if (score > bestScore || (score === bestScore && (seeds[n] as number) < (seeds[best] as number))) {
        best = n;
        bestScore = score;
      }
    }
    return best;
  }
}
