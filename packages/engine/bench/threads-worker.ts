/**
 * One thread of the threads benchmark. With a handle it attaches to the shared
 * cache; without one it builds and fills a cache of its own (the unshared
 * baseline, in a worker too, so both sides run in the same kind of thread).
 * It warms up untimed, reports 'ready', runs its operations when told, and
 * reports how long they took.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SlabLruCache, type CacheHandle, type PolicyName } from '../src/index.js';
import { makeKeyPicker } from './workload.js';

const { handle, keys, ops, seed, writeEvery, policy } = workerData as {
  handle: CacheHandle | undefined;
  keys: number;
  ops: number;
  seed: number;
  /** 0: gets only; 10: one set in ten. */
  writeEvery: number;
  policy: PolicyName;
};
const value = Buffer.alloc(100, 'v');
let cache: SlabLruCache;
if (handle !== undefined) cache = SlabLruCache.attach(handle);
else {
  cache = new SlabLruCache({ maxKeys: keys, maxBytes: Math.max(64 << 20, keys * 160), policy });
  for (let i = 0; i < keys; i++) cache.set('key:' + i, value);
}
const pick = makeKeyPicker(seed);
function run(count: number): void {
  for (let i = 0; i < count; i++) {
    const key = 'key:' + pick(keys);
    if (writeEvery !== 0 && i % writeEvery === 0) cache.set(key, value);
    else cache.get(key);
  }
}
run(Math.min(ops, 300_000)); // warm-up: the same code paths, optimized before the clock starts
parentPort!.once('message', () => {
  const start = performance.now();
  run(ops);
  parentPort!.postMessage({ ms: performance.now() - start, stats: cache.stats() });
});
parentPort!.postMessage('ready');
