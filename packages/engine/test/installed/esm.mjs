// The installed engine through `import`: iteration, byte keys, fetch de-duplication.
import assert from 'node:assert/strict';

import { SlabLruCache } from '@slabcache/engine';

const cache = new SlabLruCache({ max: 100, maxBytes: 8 * 2 ** 20 });
const byteKey = Buffer.from([0xff, 0x00, 0x01]);
cache.set('a', 'one');
cache.set(byteKey, Buffer.from([1, 2, 3]));

// [...cache]: [key, value] pairs, most recent first; bytes come back as bytes.
const entries = [...cache];
assert.deepEqual(entries, [
  [byteKey, Buffer.from([1, 2, 3])],
  ['a', 'one'],
]);
assert.equal(cache.has(entries[0][0]), true, 'a byte key from iteration finds its entry');

// fetch(): concurrent callers of one key share one loader call.
let calls = 0;
let release;
const gate = new Promise((resolve) => (release = resolve));
const loading = new SlabLruCache({
  max: 100,
  maxBytes: 8 * 2 ** 20,
  fetchMethod: async (key) => {
    calls++;
    await gate;
    return `value of ${key}`;
  },
});
const callers = Array.from({ length: 10 }, () => loading.fetch('k'));
release();
assert.deepEqual(await Promise.all(callers), Array(10).fill('value of k'));
assert.equal(calls, 1, 'one loader call for ten concurrent fetches');
assert.equal(loading.get('k'), 'value of k', 'the loaded value is cached');
assert.equal(await loading.fetch('k'), 'value of k');
assert.equal(calls, 1, 'a cached value does not call the loader');
console.log('engine ESM: ok');
