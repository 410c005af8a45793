/**
 * The calibration prototype (bench/calibration/minimal-lru.ts) is only a fair
 * yardstick if it does the same job as the caches it is measured against:
 * exact LRU, identical to lru-cache, on seeded sequences with eviction.
 */
import { LRUCache } from 'lru-cache';

import { MinimalLru } from '../bench/calibration/minimal-lru';
import { makeRng, randInt } from './support/rng';

test.each([1, 2, 3])('minimal-lru answers and evicts exactly as lru-cache (seed %i)', (seed) => {
  const rng = makeRng(seed);
  const max = 300;
  const ours = new MinimalLru(max);
  const theirs = new LRUCache<string, string>({ max });
  for (let step = 0; step < 40_000; step++) {
    // Keys of 1 to 11 characters, so hashing covers every tail length.
    const key = 'k'.repeat(randInt(rng, 3)) + String(randInt(rng, 1_000));
    if (rng() < 0.45) {
      const value = `v${step}`.padEnd(randInt(rng, 100), '.');
      ours.set(key, value);
      theirs.set(key, value);
    } else if (rng() < 0.5) {
      expect([step, ours.get(key)]).toEqual([step, theirs.get(key)]);
    } else {
      expect([step, ours.getBytes(key)?.toString('latin1')]).toEqual([step, theirs.get(key)]);
    }
    expect(ours.size).toBe(theirs.size);
  }
  // The survivors, least recent first, read without changing anything in lru-cache.
  const survivors = [...theirs.rkeys()];
  expect(survivors).toHaveLength(max);
  for (const key of survivors) expect(ours.get(key)).toBe(theirs.peek(key));
});

test('a key and value that do not fit a record are refused, not truncated', () => {
  const cache = new MinimalLru(4);
  expect(() => cache.set('key', 'v'.repeat(116))).toThrow('key and value do not fit a record');
  expect(cache.size).toBe(0);
  cache.set('key', 'v'.repeat(115));
  expect(cache.get('key')).toBe('v'.repeat(115));
});
