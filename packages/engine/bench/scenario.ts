/**
 * One benchmark round in a fresh process: builds one cache (ours or lru-cache
 * configured as the seed did), runs the named phases, and prints one JSON line.
 * A fresh process per round keeps RSS and GC numbers about one cache only.
 *
 * Keys and values are created per operation, the way a server decodes them
 * from requests (flat strings, not slices of a shared pool), so the garbage
 * collector sees the caller's real garbage. Operations run in batches of
 * BATCH with an event-loop turn between batches: the longest batch is the
 * longest stall a server's requests would have seen.
 *
 * usage: node --expose-gc --import tsx bench/scenario.ts --impl slab|lru-cache
 *          --keys N --value-bytes V --ops M --phases fill,get,... [--max-bytes B]
 */

import { constants, PerformanceObserver, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { makeBenchCache, type BenchCache, type BenchImpl } from './adapters.js';
import { makeKeyPicker, makeValueMaker, type PhaseResult } from './workload.js';
import { cliArgs } from './cli-args.js';

const BATCH = 1000;

const { values: args } = parseArgs({
  args: cliArgs(),
  options: {
    impl: { type: 'string', default: 'slab' },
    'pool-size': { type: 'string', default: '1000000' },
    keys: { type: 'string', default: '1000000' },
    'value-bytes': { type: 'string', default: '100' },
    ops: { type: 'string', default: '1000000' },
    phases: { type: 'string', default: 'fill,get,getBytes,get-many,get-pool,getBytes-pool,miss,overwrite,set-many,mix,evict' },
    'max-bytes': { type: 'string', default: String(1.5 * 1024 ** 3) },
  },
});
const impl = args.impl as BenchImpl;
const keys = Number(args.keys);
const valueBytes = Number(args['value-bytes']);
const ops = Number(args.ops);
const maxBytes = Number(args['max-bytes']);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

/* ---- fresh keys and values per operation ---- */

const freshValue = makeValueMaker(valueBytes);

const randomBelow = makeKeyPicker(0x9e3779b9);

/* ---- GC and event-loop observation ---- */

interface GcSample {
  duration: number;
  major: boolean;
}
let gcSamples: GcSample[] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
    gcSamples.push({ duration: entry.duration, major: kind === constants.NODE_PERFORMANCE_GC_MAJOR });
  }
}).observe({ entryTypes: ['gc'] });


async function runPhase(phase: string, count: number, op: (i: number) => void): Promise<PhaseResult> {
  await nextTurn();
  gcSamples = [];
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  let maxBatch = 0;
  const start = performance.now();
  for (let i = 0; i < count; i += BATCH) {
    const batchStart = performance.now();
    const end = Math.min(count, i + BATCH);
    for (let j = i; j < end; j++) op(j);
    maxBatch = Math.max(maxBatch, performance.now() - batchStart);
    await nextTurn();
  }
  const elapsed = performance.now() - start;
  loopDelay.disable();
  // GC entries arrive asynchronously: give the observer a moment.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const durations = gcSamples.map((s) => s.duration).sort((a, b) => a - b);
  return {
    phase,
    ops: count,
    opsPerSec: count / (elapsed / 1000),
    gcTotalMs: durations.reduce((a, b) => a + b, 0),
    gcMaxMs: durations.at(-1) ?? 0,
    gcP99Ms: durations.length ? durations[Math.min(durations.length - 1, Math.floor(durations.length * 0.99))]! : 0,
    majorGcs: gcSamples.filter((s) => s.major).length,
    maxBatchMs: maxBatch,
    loopDelayMaxMs: loopDelay.max / 1e6,
  };
}

async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  // V8 and malloc give memory back late: collect several times and wait.
  for (let i = 0; i < 4; i++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  return process.memoryUsage();
}

/* ---- the phases ---- */

/**
 * Keys built before the timed region and reused: the case where lru-cache is
 * strongest (V8 keeps each string's hash, so its Map lookups skip hashing),
 * while this cache hashes the key bytes on every call.
 */
let keyPool: string[] = [];

/**
 * Builds the pool once, then collects until it has settled in the old
 * generation: promoting 1,000,000 fresh strings costs a major GC, which is the
 * harness's allocation, not the cache's, and used to land inside the first
 * pooled phase (a 31 ms pause for both caches).
 */
async function buildKeyPool(): Promise<void> {
  if (keyPool.length > 0) return;
  keyPool = Array.from({ length: Number(args['pool-size']) }, () => 'key:' + randomBelow(keys));
  await settledMemory();
}

/** Keys per `getMany` call in the get-many phase (a client's batch, like one /mget request). */
const MANY = 100;
const manyKeys = new Array<string>(MANY);

/** Every MANY-th of `count` operations reads the next MANY fresh keys (fewer at the end) in one batch. */
function readMany(cache: BenchCache, i: number, count: number): void {
  if (i % MANY !== 0) return;
  manyKeys.length = Math.min(MANY, count - i);
  for (let j = 0; j < manyKeys.length; j++) manyKeys[j] = 'key:' + randomBelow(keys);
  cache.getMany(manyKeys);
}

/** Every MANY-th of `count` operations overwrites MANY random keys (fewer at the end) with fresh values in one batch. */
function overwriteMany(cache: BenchCache, i: number, count: number): void {
  if (i % MANY !== 0) return;
  const entries: [string, string][] = [];
  for (let j = 0; j < Math.min(MANY, count - i); j++) entries.push(['key:' + randomBelow(keys), freshValue(i + j)]);
  cache.setMany(entries);
}

function pooledKey(i: number): string {
  return keyPool[i % keyPool.length]!;
}

function phasesFor(cache: BenchCache): Record<string, () => Promise<PhaseResult>> {
  return {
    fill: () => runPhase('fill', keys, (i) => cache.set('key:' + i, freshValue(i))),
    get: () => runPhase('get', ops, () => cache.get('key:' + randomBelow(keys))),
    getBytes: () => runPhase('getBytes', ops, () => cache.getBytes('key:' + randomBelow(keys))),
    'get-many': () => runPhase('get-many', ops, (i) => readMany(cache, i, ops)),
    'get-pool': async () => (await buildKeyPool(), runPhase('get-pool', ops, (i) => cache.get(pooledKey(i)))),
    'getBytes-pool': async () => (await buildKeyPool(), runPhase('getBytes-pool', ops, (i) => cache.getBytes(pooledKey(i)))),
    miss: () => runPhase('miss', ops, (i) => cache.get('miss:' + i)),
    overwrite: () => runPhase('overwrite', ops, (i) => cache.set('key:' + randomBelow(keys), freshValue(i))),
    'set-many': () => runPhase('set-many', ops, (i) => overwriteMany(cache, i, ops)),
    mix: () =>
      runPhase('mix', ops, (i) => {
        const k = 'key:' + randomBelow(keys);
        if (i % 10 === 0) cache.set(k, freshValue(i));
        else cache.get(k);
      }),
    evict: () => runPhase('evict', keys, (i) => cache.set('new:' + i, freshValue(i))),
  };
}

async function main(): Promise<void> {
  const baseline = await settledMemory();
  const createStart = performance.now();
  const cache = makeBenchCache(impl, { maxKeys: keys, maxBytes });
  const createMs = performance.now() - createStart;
  const phases = phasesFor(cache);
  const results: PhaseResult[] = [];
  let afterFill: NodeJS.MemoryUsage | undefined;
  for (const name of String(args.phases).split(',')) {
    const phase = phases[name];
    if (!phase) throw new Error(`unknown phase ${name}`);
    results.push(await phase());
    if (name === 'fill') afterFill = await settledMemory();
  }
  const fillMemory = afterFill && {
    rssBytes: afterFill.rss - baseline.rss,
    heapUsedBytes: afterFill.heapUsed - baseline.heapUsed,
    externalBytes: afterFill.external - baseline.external,
  };
  process.stdout.write(
    JSON.stringify({ impl, keys, valueBytes, ops, createMs, size: cache.size, fillMemory, detail: cache.memoryDetail(), results }) + '\n',
  );
}

await main();
