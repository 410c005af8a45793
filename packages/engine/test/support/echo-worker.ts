/** Reads what the main thread wrote and writes a reply, through the shared cache. */
import { parentPort, workerData } from 'node:worker_threads';
import { SlabLruCache } from '../../src/index.js';

const cache = SlabLruCache.attach(workerData.handle);
const seen = cache.get('from-main');
cache.set('from-worker', 'hello from the worker');
parentPort!.postMessage({ seen });
