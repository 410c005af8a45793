/**
 * Engine fuzzing: a seeded generator of operation sequences (sets across every
 * size class, batches of sets and gets, gets, peeks, deletes, compare-and-set
 * and -delete, TTLs with a moving clock, clears, byte pressure), a replayer
 * that checks results against a simple model and runs the invariant checker
 * after every step in each setup (FUZZ_SETUPS: policy, one instance or two
 * sharing the cache, versions or not, a maxSize bound or not), and a shrinker that cuts a failing
 * sequence down to a short reproduction.
 *
 * The model: a Map of what each key must hold if present. The cache may drop
 * entries (evictions), so the model only checks that a value read back is the
 * last one written for that key and that expired or deleted keys stay gone.
 */
import { SlabLruCache, checkInvariants, type CacheOptions, type PolicyName } from '../../src/index.js';
import { makeRng, randInt } from './rng.js';

type SetArgs = { key: number; size: number; ttl: number };

export type FuzzOp =
  | ({ op: 'set' } & SetArgs)
  | { op: 'setMany'; entries: SetArgs[] }
  | { op: 'get' | 'peek' | 'has' | 'delete'; key: number }
  | { op: 'getMany'; keys: number[] }
  /** Compare-and-set with the entry's current version, or with a version it does not have (`stale`). */
  | ({ op: 'setIf'; stale: boolean } & SetArgs)
  | { op: 'deleteIf'; key: number; stale: boolean }
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
    // Sizes spread over every class: mostly small, sometimes up to the value limit.
    const setArgs = (key: number): SetArgs => ({ key, size: rng() < 0.8 ? randInt(rng, 200) : randInt(rng, 4001), ttl: rng() < 0.2 ? 1 + randInt(rng, 50) : 0 });
    // A batch may repeat a key, as a caller's may.
    const batch = <T>(item: () => T): T[] => Array.from({ length: 1 + randInt(rng, 8) }, item);
    if (r < 0.42) ops.push({ op: 'set', ...setArgs(key) });
    else if (r < 0.45) ops.push({ op: 'setMany', entries: batch(() => setArgs(randInt(rng, keySpace))) });
    else if (r < 0.48) ops.push({ op: 'getMany', keys: batch(() => randInt(rng, keySpace)) });
    else if (r < 0.5) ops.push({ op: 'setIf', stale: rng() < 0.3, ...setArgs(key) });
    else if (r < 0.51) ops.push({ op: 'deleteIf', key, stale: rng() < 0.3 });
    else if (r < 0.7) ops.push({ op: 'get', key });
    else if (r < 0.78) ops.push({ op: 'peek', key });
    else if (r < 0.84) ops.push({ op: 'has', key });
    else if (r < 0.96) ops.push({ op: 'delete', key });
    else if (r < 0.999) ops.push({ op: 'tick', ms: randInt(rng, 20) });
    else ops.push({ op: 'clear' });
  }
  return ops;
}

/** A value of `size` bytes that names its key and the step (and batch position) that wrote it. */
const valueFor = (key: number, step: number, size: number, tag: string = String(step)): string =>
  `${key}:${tag}:`.padEnd(size, String.fromCharCode(97 + (step % 26))).slice(0, Math.max(size, 0));

/** The first step that went wrong in a replay, and how. */
export interface FuzzFailure {
  readonly step: number;
  readonly message: string;
}

/**
 * How a sequence is replayed: the policy, whether the cache is shared (two
 * instances, taking turns), whether entries carry versions (without, setIf
 * and deleteIf must throw TypeError and change nothing), and whether
 * FUZZ_MAX_SIZE bounds the key + value bytes (the invariant checker holds the
 * entries under it).
 */
export interface FuzzSetup {
  readonly policy: PolicyName;
  readonly shared: boolean;
  readonly versions: boolean;
  readonly maxSize: boolean;
}

/**
 * A twelfth of the slab memory, which its many small pages and size classes fill well below their
 * size: in a sequence of 2,000 operations, maxSize and slab memory each cause about half the evictions.
 */
export const FUZZ_MAX_SIZE = 8192;

/**
 * Every pair of policy and sharing; each policy and each kind of sharing with
 * and without versions, and with and without maxSize.
 */
export const FUZZ_SETUPS: readonly FuzzSetup[] = [
  { policy: 'lru', shared: false, versions: false, maxSize: true },
  { policy: 'sieve', shared: false, versions: true, maxSize: false },
  { policy: 'lru', shared: true, versions: true, maxSize: false },
  { policy: 'sieve', shared: true, versions: false, maxSize: true },
];

export const describeSetup = ({ policy, shared, versions, maxSize }: FuzzSetup): string =>
  `${policy}${shared ? ', shared' : ''}${versions ? ', versions' : ''}${maxSize ? ', maxSize' : ''}`;

/** Replays `ops` as `setup` says; returns undefined if all is well, else the first failure. */
export function replay(ops: readonly FuzzOp[], setup: FuzzSetup): FuzzFailure | undefined {
  const first = new SlabLruCache({
    ...FUZZ_OPTIONS,
    policy: setup.policy,
    versions: setup.versions,
    ...(setup.maxSize ? { maxSize: FUZZ_MAX_SIZE } : {}),
  });
  // Attaching takes the first instance's handle, which switches it to shared operation too.
  const instances = setup.shared ? [first, SlabLruCache.attach(first.handle)] : [first];
  const model = new Map<number, { value: string; expiresAt: number }>();
  let now = 0;
  const remember = (key: number, value: string, ttl: number): void => {
    model.set(key, { value, expiresAt: ttl === 0 ? 0 : now + ttl });
  };
  /** The highest version a write has returned: every write's version must be above it. */
  let lastVersion = 0;
  /** Takes a write's version; says what is wrong if it is not above every earlier one. */
  const versionGrew = (version: number): string | undefined => {
    if (version <= lastVersion) return `new version ${version} not above ${lastVersion}`;
    lastVersion = version;
    return undefined;
  };
  const liveValue = (key: number): string | undefined => {
    const expected = model.get(key);
    return expected !== undefined && (expected.expiresAt === 0 || expected.expiresAt > now) ? expected.value : undefined;
  };
  /** A read may miss (the cache may have evicted the key) but never return anything but the model's live value. */
  const wrongRead = (key: number, got: string | undefined): string | undefined => {
    const expected = liveValue(key);
    if (got === undefined || got === expected) return undefined;
    return `k${key}: read ${JSON.stringify(got.slice(0, 30))}, model ${expected === undefined ? 'absent' : JSON.stringify(expected.slice(0, 30))}`;
  };
  let step = 0;
  const realNow = Date.now;
  Date.now = () => 1_800_000_000_000 + now;
  try {
    for (; step < ops.length; step++) {
      const o = ops[step]!;
      const cache = instances[step % instances.length]!;
      const where = `step ${step} ${JSON.stringify(o)}`;
      const fail = (what: string): FuzzFailure => ({ step, message: `${where}: ${what}` });
      const live = 'key' in o && liveValue(o.key) !== undefined;
      const key = 'key' in o ? `k${o.key}` : '';
      switch (o.op) {
        case 'set': {
          const value = valueFor(o.key, step, o.size);
          cache.set(key, value, { ttl: o.ttl });
          remember(o.key, value, o.ttl);
          if (cache.peek(key) !== value) return fail('value not readable right after set');
          const wrongVersion = setup.versions ? versionGrew(cache.getEntry(key, { peek: true })!.version) : undefined;
          if (wrongVersion !== undefined) return fail(wrongVersion);
          break;
        }
        case 'setMany': {
          const values = o.entries.map((e, i) => valueFor(e.key, step, e.size, `${step}.${i}`));
          cache.setMany(o.entries.map((e, i) => [`k${e.key}`, values[i]!, { ttl: e.ttl }]));
          o.entries.forEach((e, i) => remember(e.key, values[i]!, e.ttl));
          // Each entry may evict an earlier one of the batch, but the last one set stays.
          const last = o.entries.length - 1;
          if (cache.peek(`k${o.entries[last]!.key}`) !== values[last]) return fail("the batch's last value not readable right after setMany");
          break;
        }
        case 'setIf':
        case 'deleteIf': {
          const before = cache.peek(key);
          const current = setup.versions ? (cache.getEntry(key, { peek: true })?.version ?? 0) : 0;
          const expectedVersion = o.stale ? current + 1 : current;
          const value = o.op === 'setIf' ? valueFor(o.key, step, o.size) : '';
          let result: number | boolean;
          try {
            result = o.op === 'setIf' ? cache.setIf(key, value, expectedVersion, { ttl: o.ttl }) : cache.deleteIf(key, expectedVersion);
          } catch (error) {
            if (setup.versions || !(error instanceof TypeError)) throw error;
            if (cache.peek(key) !== before) return fail('refused without versions, yet the entry changed');
            break;
          }
          if (!setup.versions) return fail(`${o.op} did not throw without versions`);
          // Compare-and-set: it succeeds exactly when the expected version is the entry's (for setIf, 0 = absent).
          const shouldSucceed = !o.stale && (o.op === 'setIf' || current !== 0);
          if (Boolean(result) !== shouldSucceed) return fail(`returned ${result}, current version ${current}`);
          if (!shouldSucceed) {
            if (cache.peek(key) !== before) return fail('refused, yet the entry changed');
          } else if (o.op === 'deleteIf') {
            model.delete(o.key);
            if (cache.has(key)) return fail('still present after deleteIf');
          } else {
            const wrongVersion = versionGrew(result as number);
            if (wrongVersion !== undefined) return fail(wrongVersion);
            remember(o.key, value, o.ttl);
            if (cache.peek(key) !== value) return fail('value not readable right after setIf');
          }
          break;
        }
        case 'get':
        case 'peek': {
          const wrong = wrongRead(o.key, o.op === 'get' ? cache.get(key) : cache.peek(key));
          if (wrong !== undefined) return fail(wrong);
          break;
        }
        case 'getMany': {
          const got = cache.getMany(o.keys.map((k) => `k${k}`));
          if (got.length !== o.keys.length) return fail(`${got.length} results for ${o.keys.length} keys`);
          const wrong = o.keys.map((k, i) => wrongRead(k, got[i])).find((w) => w !== undefined);
          if (wrong !== undefined) return fail(wrong);
          break;
        }
        case 'has':
          if (cache.has(key) && !live) return fail('has() true for an absent or expired key');
          break;
        case 'delete':
          cache.delete(key);
          model.delete(o.key);
          if (cache.has(key)) return fail('still present after delete');
          break;
        case 'tick':
          now += o.ms;
          break;
        case 'clear':
          cache.clear();
          model.clear();
          if (cache.size !== 0) return fail(`size ${cache.size} after clear`);
          break;
      }
      const stats = cache.stats();
      if (stats.slab_bytes > stats.limit_maxbytes) return fail(`slab memory ${stats.slab_bytes} over ${stats.limit_maxbytes}`);
      if (cache.size > FUZZ_OPTIONS.maxKeys!) return fail(`${cache.size} entries over maxKeys`);
      try {
        checkInvariants(cache);
      } catch (error) {
        return fail((error as Error).message);
      }
    }
    return undefined;
  } catch (error) {
    return { step, message: `threw: ${(error as Error).stack}` };
  } finally {
    Date.now = realNow;
  }
}

/**
 * Delta-debugging: cuts a failing sequence after its failing step (nothing
 * later can matter), then removes ever smaller chunks while it still fails.
 */
export function shrink(ops: readonly FuzzOp[], setup: FuzzSetup): FuzzOp[] {
  const failure = replay(ops, setup);
  if (failure === undefined) return [...ops];
  let current = ops.slice(0, failure.step + 1);
  for (let chunk = Math.floor(current.length / 2); chunk >= 1; chunk = Math.floor(chunk / 2)) {
    for (let start = 0; start < current.length; ) {
      const candidate = [...current.slice(0, start), ...current.slice(start + chunk)];
      const candidateFailure = replay(candidate, setup);
      if (candidateFailure !== undefined) current = candidate.slice(0, candidateFailure.step + 1);
      else start += chunk;
    }
  }
  return current;
}

/** Runs one seed in each setup; on failure throws with the seed, the setup, the failure and the shrunk reproduction. */
export function fuzzSeed(seed: number, length: number): void {
  const ops = generate(seed, length);
  for (const setup of FUZZ_SETUPS) {
    const failure = replay(ops, setup);
    if (failure === undefined) continue;
    const shortest = shrink(ops, setup);
    throw new Error(
      `fuzz seed ${seed} (length ${length}, ${describeSetup(setup)}) failed: ${failure.message}\n` +
        `shortest reproduction (${shortest.length} ops): ${JSON.stringify(shortest)}\n` +
        `replay failure: ${replay(shortest, setup)?.message}`,
    );
  }
}
