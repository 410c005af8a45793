// A TypeScript ESM consumer, compiled with strict tsc against the installed types, then run.
import assert from 'node:assert/strict';

import { SlabLruCache, type CacheOptions, type DisposeReason, type Stored } from '@slabcache/engine';

const removed: [Stored, Stored, DisposeReason][] = [];
const options: CacheOptions = {
  max: 2,
  maxBytes: 8 * 2 ** 20,
  dispose: (value, key, reason) => removed.push([value, key, reason]),
  fetchMethod: async (key) => `loaded ${String(key)}`,
};
const cache = new SlabLruCache(options);
cache.set('a', '1').set('b', '2').set('c', '3');
assert.deepEqual(removed, [['1', 'a', 'evict']]);

const pairs: [Stored, Stored][] = [...cache];
assert.equal(pairs.length, 2);
const fetched = await cache.fetch('d');
assert.equal(fetched, 'loaded d');

// @ts-expect-error: an unknown option is a type error (and a TypeError at run time)
assert.throws(() => new SlabLruCache({ maxx: 1 }), TypeError);
console.log('engine TypeScript ESM: ok');
