/**
 * A short run of the engine fuzzer for CI: a handful of seeded sequences, each
 * under both policies, with the invariant checker after every step. Long runs: `pnpm --filter
 * @slabcache/engine fuzz -- --seconds 600`.
 */
import { fuzzSeed, generate, replay, shrink } from './support/fuzz';

describe('engine fuzzing (short)', () => {
  it.each([1, 2, 3, 4, 5, 6])('seed %i: 2,000 random operations keep every invariant, with LRU and with SIEVE', (seed) => {
    fuzzSeed(seed, 2000);
  });

  it('the shrinker cuts a failing sequence down to its cause', () => {
    // A sequence that the model must flag: a 'get' answered by a stale model is not
    // possible to fake, so feed an impossible op instead: a set over the value limit throws.
    const ops = [...generate(9, 200), { op: 'set' as const, key: 1, size: 5000, ttl: 0 }, ...generate(10, 200)];
    expect(replay(ops, 'lru')).toEqual({ step: 200, message: expect.stringMatching(/^threw: CacheLimitError/) });
    const shortest = shrink(ops, 'lru');
    expect(shortest).toEqual([{ op: 'set', key: 1, size: 5000, ttl: 0 }]);
  });
});
