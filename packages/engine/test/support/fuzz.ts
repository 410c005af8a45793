/**
 * Engine fuzzing: a seeded generator of operation sequences (sets across every
 * size class, gets, peeks, deletes, TTLs with a moving clock, clears, byte
 * pressure), a replayer that checks results against a simple model and runs
 * the invariant checker after every step, and a shrinker that cuts a failing
 * sequence down to a short reproduction.
 *
 * The model: a Map of what each key must hold if present. The cache may drop
 * entries (evictions), so the model only checks that a value read back is the
 * last one written for that key and that expired or deleted keys stay gone.
 */
import { SlabLruCache, checkInvariants, type CacheOptions } from '../../src/index.js';
import { makeRng, randInt } from './rng.js';

export type FuzzOp =
  | { op: 'set'; key: number; size: number; ttl: number }
  | { op: 'get' | 'peek' | 'has' | 'delete'; key: number }
  | { op: 'tick'; ms: number }
  | { op: 'clear' };

export const FUZZ_OPTIONS: CacheOptions = {
  maxKeys: 300,
  maxBytes: 24 * 4096,
  pageBytes: 4096,
  maxKeyBytes: 16,
  maxValueBytes: 4000,
};

export function generate(seed: number, length: number): FuzzOp[] {
  const rng = makeRng(seed);
  const ops: FuzzOp[] = [];
  const keySpace = 50 + randInt(rng, 600);
  for (let i = 0; i < length; i++) {
    const r = rng();
    const key = randInt(rng, keySpace);
    if (r < 0.45) {
      // Sizes spread over every class: mostly small, sometimes up to the value limit.
      const size = rng() < 0.8 ? randInt(rng, 200) : randInt(rng, 4001);
      ops.push({ op: 'set', key, size, ttl: rng() < 0.2 ? 1 + randInt(rng, 50) : 0 });
    } else if (r < 0.7) ops.push({ op: 'get', key });
    else if (r < 0.78) ops.push({ op: 'peek', key });
    else if (r < 0.84) ops.push({ op: 'has', key });
    else if (r < 0.96) ops.push({ op: 'delete', key });
    else if (r < 0.999) ops.push({ op: 'tick', ms: randInt(rng, 20) });
    else ops.push({ op: 'clear' });
  }
  return ops;
}

const valueFor = (key: number, step: number, size: number): string =>
  `${key}:${step}:`.padEnd(size, String.fromCharCode(97 + (step % 26))).slice(0, Math.max(size, 0));

/** Replays `ops`; returns undefined if all is well, else a description of the first failure. */
export function replay(ops: readonly FuzzOp[]): string | undefined {
  const cache = new SlabLruCache(FUZZ_OPTIONS);
  const model = new Map<number, { value: string; expiresAt: number }>();
  let now = 0;
  const realNow = Date.now;
  Date.now = () => 1_800_000_000_000 + now;
  try {
    for (let step = 0; step < ops.length; step++) {
      const o = ops[step]!;
      const where = `step ${step} ${JSON.stringify(o)}`;
      const expected = 'key' in o ? model.get(o.key) : undefined;
      const live = expected !== undefined && (expected.expiresAt === 0 || expected.expiresAt > now);
      const key = 'key' in o ? `k${o.key}` : '';
      switch (o.op) {
        case 'set': {
          const value = valueFor(o.key, step, o.size);
          cache.set(key, value, { ttl: o.ttl });
          model.set(o.key, { value, expiresAt: o.ttl === 0 ? 0 : now + o.ttl });
          if (cache.peek(key) !== value) return `${where}: value not readable right after set`;
          break;
        }
        case 'get':
        case 'peek': {
          const got = o.op === 'get' ? cache.get(key) : cache.peek(key);
          if (got !== undefined && (!live || got !== expected!.value)) return `${where}: read ${JSON.stringify(got.slice(0, 30))}, model ${live ? JSON.stringify(expected!.value.slice(0, 30)) : 'absent'}`;
          break;
        }
        case 'has':
          if (cache.has(key) && !live) return `${where}: has() true for an absent or expired key`;
          break;
        case 'delete':
          cache.delete(key);
          model.delete(o.key);
          if (cache.has(key)) return `${where}: still present after delete`;
          break;
        case 'tick':
          now += o.ms;
          break;
        case 'clear':
          cache.clear();
          model.clear();
          if (cache.size !== 0) return `${where}: size ${cache.size} after clear`;
          break;
      }
      const stats = cache.stats();
      if (stats.slab_bytes > stats.limit_maxbytes) return `${where}: slab memory ${stats.slab_bytes} over ${stats.limit_maxbytes}`;
      if (cache.size > FUZZ_OPTIONS.maxKeys!) return `${where}: ${cache.size} entries over maxKeys`;
      try {
        checkInvariants(cache);
      } catch (error) {
        return `${where}: ${(error as Error).message}`;
      }
    }
    return undefined;
  } catch (error) {
    return `threw: ${(error as Error).stack}`;
  } finally {
    Date.now = realNow;
  }
}

/** Delta-debugging: removes ever smaller chunks of a failing sequence while it still fails. */
export function shrink(ops: readonly FuzzOp[]): FuzzOp[] {
  let current = [...ops];
  for (let chunk = Math.floor(current.length / 2); chunk >= 1; chunk = Math.floor(chunk / 2)) {
    for (let start = 0; start < current.length; ) {
      const candidate = [...current.slice(0, start), ...current.slice(start + chunk)];
      if (replay(candidate) !== undefined) current = candidate;
      else start += chunk;
    }
  }
  return current;
}

/** Runs one seed; on failure throws with the seed, the failure and the shrunk reproduction. */
export function fuzzSeed(seed: number, length: number): void {
  const ops = generate(seed, length);
  const failure = replay(ops);
  if (failure === undefined) return;
  const shortest = shrink(ops);
  throw new Error(
    `fuzz seed ${seed} (length ${length}) failed: ${failure}\n` +
      `shortest reproduction (${shortest.length} ops): ${JSON.stringify(shortest)}\n` +
      `replay failure: ${replay(shortest)}`,
  );
}
