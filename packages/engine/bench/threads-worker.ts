/** One thread of the threads benchmark: attaches to the shared cache and runs a 90/10 get/set mix. */
import { parentPort, workerData } from 'node:worker_threads';
import { SlabLruCache } from '../src/index.js';

const { handle, keys, ops, seed } = workerData as { handle: never; keys: number; ops: number; seed: number };
const cache = SlabLruCache.attach(handle);
const value = Buffer.alloc(100, 'v');
let state = seed >>> 0 || 1;
parentPort!.once('message', () => {
  const start = performance.now();
  for (let i = 0; i < ops; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const key = 'key:' + ((state >>> 0) % keys);
    if (i % 10 === 0) cache.set(key, value);
    else cache.get(key);
  }
  parentPort!.postMessage({ ms: performance.now() - start });
});
parentPort!.postMessage('ready');
