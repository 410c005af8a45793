/**
 * A SIEVE cache against the reference model (sieveModel.ts) over a long
 * seeded sequence: skewed gets that admit the key on a miss, updates and
 * deletes. Same hits, same evictions in the same order, the same queue; the
 * invariant checker runs now and then.
 */
import { checkInvariants, type SlabLruCache } from '../../src/index.js';
import type { SieveModel } from './sieveModel.js';

export interface SieveDifferential {
  readonly seed: number;
  readonly rng: () => number;
  readonly steps: number;
  readonly keySpace: number;
  /** A SIEVE cache whose dispose pushes the keys it evicts onto `evicted`. */
  readonly cache: SlabLruCache;
  readonly evicted: readonly string[];
  readonly model: SieveModel;
  /** The value a set of `key` stores, and what it costs the model. */
  readonly valueOf: (key: number) => string;
  readonly costOf: (key: string, value: string) => number;
}

/** Runs the sequence; returns the number of hits. */
export function runSieveDifferential(run: SieveDifferential): number {
  const { seed, rng, cache, evicted, model } = run;
  let hits = 0;
  const set = (k: number, key: string): void => {
    const value = run.valueOf(k);
    cache.set(key, value);
    model.set(key, run.costOf(key, value));
  };
  for (let step = 0; step < run.steps; step++) {
    // Skewed keys, so that some are hot and the hand has visited bits to clear.
    const k = Math.floor(run.keySpace * rng() ** 2);
    const key = `k${k}`;
    const r = rng();
    if (r < 0.8) {
      const hit = cache.get(key) !== undefined;
      // A plain check per step (jest's expect is slow in a loop this long); expect() on a mismatch.
      if (hit !== model.get(key)) expect([seed, step, key, hit]).toEqual([seed, step, key, !hit]);
      if (hit) hits++;
      else set(k, key);
    } else if (r < 0.93) {
      set(k, key); // an update in place is a hit
    } else if (cache.delete(key) !== model.delete(key)) {
      throw new Error(`seed ${seed}, step ${step}: delete(${key}) differs from the model`);
    }
    if (step % 997 === 0) {
      expect(evicted).toEqual(model.evicted);
      expect([...cache.keys()]).toEqual(model.keys());
      checkInvariants(cache);
    }
  }
  expect(evicted).toEqual(model.evicted);
  return hits;
}
