/**
 * Differential test: long seeded random sequences of set/get/peek/has/delete
 * replayed on this cache and on npm lru-cache with the same `max` (byte bound
 * not binding) must give identical results and identical recency order —
 * which includes identical eviction order. The invariant checker runs after
 * every step. A failure names the seed and step so it can be replayed.
 */
import { LRUCache } from 'lru-cache';
import { SlabLruCache, checkInvariants } from '@slabcache/engine';
import { makeRng, randInt } from './support/rng';

type Op = 'set' | 'get' | 'peek' | 'has' | 'delete' | 'getBytes';

function runSequence(seed: number, steps: number, max: number, keySpace: number): void {
  const rng = makeRng(seed);
  const ours = new SlabLruCache({ maxKeys: max, maxBytes: 4 << 20, pageBytes: 65536, maxValueBytes: 2000 });
  const theirs = new LRUCache<string, string>({ max });
  const ops: Op[] = ['set', 'set', 'set', 'get', 'get', 'getBytes', 'peek', 'has', 'delete'];
  for (let step = 0; step < steps; step++) {
    const op = ops[randInt(rng, ops.length)]!;
    const key = `key-${randInt(rng, keySpace)}`;
    const where = `seed ${seed}, step ${step}: ${op}(${key})`;
    switch (op) {
      case 'set': {
        const value = `v${step}-`.padEnd(randInt(rng, 1500), 'x');
        ours.set(key, value);
        theirs.set(key, value);
        break;
      }
      case 'get':
        expect([where, ours.get(key)]).toEqual([where, theirs.get(key)]);
        break;
      case 'getBytes':
        expect([where, ours.getBytes(key)?.toString()]).toEqual([where, theirs.get(key)]);
        break;
      case 'peek':
        expect([where, ours.peek(key)]).toEqual([where, theirs.peek(key)]);
        break;
      case 'has':
        expect([where, ours.has(key)]).toEqual([where, theirs.has(key)]);
        break;
      case 'delete':
        expect([where, ours.delete(key)]).toEqual([where, theirs.delete(key)]);
        break;
    }
    expect([where, ours.size]).toEqual([where, theirs.size]);
    if (step % 7 === 0 || step === steps - 1) {
      expect([where, [...ours.keys()]]).toEqual([where, [...theirs.keys()]]);
    }
    checkInvariants(ours);
  }
}

describe('exact LRU, differential against lru-cache', () => {
  it.each([1, 2, 3, 4, 5])('seed %i: 3,000 random operations, max 40 of 120 keys', (seed) => {
    runSequence(seed, 3000, 40, 120);
  });

  it('seed 99: small cache of 3 with heavy churn', () => {
    runSequence(99, 2000, 3, 10);
  });

  it('seed 7: eviction-heavy, 500 keys through a cache of 64', () => {
    runSequence(7, 4000, 64, 500);
  });
});
