/**
 * Issue 15: a short replay of the real traces in ../shared/traces (read at
 * run time, never committed). Bounded by entry count, `lru` gives exactly
 * lru-cache's misses and `sieve` exactly the reference model's; the replay
 * reproduces libCacheSim's published LRU and SIEVE misses on cloudphysics at
 * 128 MiB; bounded by bytes, our policies land within 0.01 of them, and
 * bounded by key + value bytes (maxSize) they equal lru-cache and the model
 * counting the same bytes, within 0.01 of libCacheSim at 640 MiB. The S3-FIFO
 * reference model (not an engine policy) reproduces libCacheSim's S3-FIFO
 * misses by bytes, both its variants, at all 8 sizes. Prefixes
 * of the long traces keep it short for CI. The full replay — every trace
 * whole, every size, and the ARC paper's and caffeine's LRU anchors — is
 * `pnpm --filter @slabcache/engine bench:hitratio`.
 */
import { ANCHORS, makeReplayCache, replay, type Bound } from '../bench/replay';
import { readTrace, tracesDirectory, type Trace } from '../bench/traces';
import { S3FifoModel } from './support/s3fifoModel';

const dir = tracesDirectory(`${__dirname}/..`);
if (dir === undefined) {
  // The traces live outside the repository; without them there is nothing to replay.
  console.warn('trace-replay: no traces found ($SLABCACHE_TRACES or ../shared/traces): skipped');
}
const describeWithTraces = dir === undefined ? describe.skip : describe;

function misses(trace: Trace, impl: Parameters<typeof makeReplayCache>[0], bound: Bound): number {
  return replay(trace.keys, 'entries' in bound ? undefined : trace.sizes, makeReplayCache(impl, bound));
}

describeWithTraces('trace replay', () => {
  it.each([
    ['glimpse', Infinity],
    ['oltp', 50_000],
    ['scarab-recs', 50_000],
    ['cloudphysics', Infinity],
  ] as const)('%s (first %d requests), bounded by 1 %% and 10 %% of its keys: lru = lru-cache, sieve = the model', (name, limit) => {
    const trace = readTrace(dir!, name, limit);
    for (const share of [0.01, 0.1]) {
      const bound = { entries: Math.max(1, Math.round(trace.uniqueKeys * share)) };
      expect([name, share, 'lru', misses(trace, 'slab-lru', bound)]).toEqual([name, share, 'lru', misses(trace, 'lru-cache', bound)]);
      expect([name, share, 'sieve', misses(trace, 'slab-sieve', bound)]).toEqual([name, share, 'sieve', misses(trace, 'sieve-model', bound)]);
    }
  }, 120_000);

  it('cloudphysics at 128 MiB: lru-cache and the model reproduce libCacheSim; ours are within 0.01', () => {
    const trace = readTrace(dir!, 'cloudphysics');
    const bound = { bytes: ANCHORS.cloudphysicsBytes.sizesMiB[0]! * 2 ** 20 };
    const requests = trace.keys.length;
    expect(requests).toBe(ANCHORS.cloudphysicsBytes.requests);
    expect(misses(trace, 'lru-cache', bound)).toBe(ANCHORS.cloudphysicsBytes.lru[0]);
    expect(misses(trace, 'sieve-model', bound)).toBe(ANCHORS.cloudphysicsBytes.sieve[0]);
    const lru = misses(trace, 'slab-lru', bound) / requests;
    const sieve = misses(trace, 'slab-sieve', bound) / requests;
    expect(Math.abs(lru - ANCHORS.cloudphysicsBytes.lru[0]! / requests)).toBeLessThan(0.01);
    expect(Math.abs(sieve - ANCHORS.cloudphysicsBytes.sieve[0]! / requests)).toBeLessThan(0.01);
  }, 120_000);

  it.each([
    ['S3FIFO.c, filling main first', true, ANCHORS.cloudphysicsBytes.s3fifo],
    ['S3FIFOv0.c, the paper\'s original', false, ANCHORS.cloudphysicsBytes.s3fifoV0],
  ] as const)('cloudphysics by bytes: the S3-FIFO model reproduces libCacheSim\'s %s at all 8 sizes', (_, fillMainFirst, published) => {
    const trace = readTrace(dir!, 'cloudphysics');
    const missesAt = ANCHORS.cloudphysicsBytes.sizesMiB.map((mib) => {
      const model = new S3FifoModel(mib * 2 ** 20, 'bytes', { fillMainFirst });
      return replay(trace.keys, trace.sizes, { lookup: (key) => model.get(key), admit: (key, size) => model.set(key, size) });
    });
    expect(missesAt).toEqual([...published]);
  }, 120_000);

  it('cloudphysics at 640 MiB bounded by key + value bytes (maxSize): ours = lru-cache and = the model exactly, and within 0.01 of libCacheSim', () => {
    // 640 MiB is where the slab-bounded replays fall furthest behind libCacheSim (BENCHMARKS.md).
    const trace = readTrace(dir!, 'cloudphysics');
    const i = ANCHORS.cloudphysicsBytes.sizesMiB.indexOf(640);
    const bound = { size: 640 * 2 ** 20 };
    const requests = trace.keys.length;
    const lru = misses(trace, 'slab-lru', bound);
    const sieve = misses(trace, 'slab-sieve', bound);
    expect(lru).toBe(misses(trace, 'lru-cache', bound));
    expect(sieve).toBe(misses(trace, 'sieve-model', bound));
    expect(Math.abs(lru / requests - ANCHORS.cloudphysicsBytes.lru[i]! / requests)).toBeLessThan(0.01);
    expect(Math.abs(sieve / requests - ANCHORS.cloudphysicsBytes.sieve[i]! / requests)).toBeLessThan(0.01);
  }, 120_000);
});
