/**
 * One thread of the multi-thread stress test: attaches to the shared cache and
 * runs seeded random operations. Every value it writes names its key and
 * carries a checksum, so any value read back can be checked whole: a value
 * that belongs to another key, or is cut or mixed from two writes, is a torn
 * read. Its metadata names the write too (`writer.seq`), so an entry read
 * with getEntry whose metadata is another write's is torn across its fields.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SlabLruCache } from '../../src/index.js';
import { makeRng, randInt } from './rng.js';
import { checkMeta, checkValue, makeValue } from './values.js';

const { handle, seed, ops, keySpace } = workerData;
/** Optional: [0] becomes 1 when the main thread is done with what it runs meanwhile; the worker goes on until then. */
const stop = workerData.stop === undefined ? undefined : new Int32Array(workerData.stop as SharedArrayBuffer);
const cache = SlabLruCache.attach(handle);
const rng = makeRng(seed);
const errors: string[] = [];
let reads = 0;
let hits = 0;
for (let i = 0; i < ops || (stop !== undefined && Atomics.load(stop, 0) === 0); i++) {
  const key = `k${randInt(rng, keySpace)}`;
  const r = rng();
  if (r < 0.45) {
    cache.set(key, makeValue(key, seed, i, randInt(rng, 1200)), { meta: `${seed}.${i}` });
  } else if (r < 0.9) {
    reads++;
    const how = randInt(rng, 4);
    const entry = how === 2 ? cache.getEntry(key) : how === 3 ? cache.getEntryBytes(key) : undefined;
    const value = how === 0 ? cache.get(key) : how === 1 ? cache.getBytes(key)?.toString('utf8') : entry?.value.toString();
    if (value !== undefined) {
      hits++;
      const problem = checkValue(key, value) ?? (entry === undefined ? undefined : checkMeta(key, value, entry.meta));
      if (problem && errors.length < 10) errors.push(problem);
    }
  } else if (r < 0.97) {
    cache.delete(key);
  } else {
    cache.has(key);
  }
}
parentPort!.postMessage({ errors, reads, hits });
