/** One thread of the threads benchmark: attaches to the shared cache and runs a 90/10 get/set mix. */
import { parentPort, workerData } from 'node:worker_threads';
import { SlabLruCache } from '../src/index.js';
import { makeKeyPicker } from './workload.js';

const { handle, keys, ops, seed } = workerData as { handle: never; keys: number; ops: number; seed: number };
const cache = SlabLruCache.attach(handle);
const value = Buffer.alloc(100, 'v');
const pick = makeKeyPicker(seed);
parentPort!.once('message', () => {
  const start = performance.now();
  for (let i = 0; i < ops; i++) {
    const key = 'key:' + pick(keys);
    if (i % 10 === 0) cache.set(key, value);
    else cache.get(key);
  }
  parentPort!.postMessage({ ms: performance.now() - start });
});
parentPort!.postMessage('ready');
