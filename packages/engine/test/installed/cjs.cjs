// The installed engine through `require` (the CommonJS build, not require(esm)).
const assert = require('node:assert/strict');

const { SlabLruCache } = require('@slabcache/engine');

assert.match(require.resolve('@slabcache/engine'), /[\\/]dist[\\/]cjs[\\/]index\.js$/);

async function main() {
  const cache = new SlabLruCache({ maxKeys: 100, maxBytes: 8 * 2 ** 20 });
  cache.set('x', '1').set('y', '2').set('z', '3');
  cache.get('x');
  assert.deepEqual([...cache], [['x', '1'], ['z', '3'], ['y', '2']]);
  assert.deepEqual([...cache.rkeys()], ['y', 'z', 'x']);

  let calls = 0;
  let release;
  const gate = new Promise((resolve) => (release = resolve));
  const loading = new SlabLruCache({
    maxKeys: 100,
    maxBytes: 8 * 2 ** 20,
    fetchMethod: async (key) => {
      calls++;
      await gate;
      return Buffer.from(`bytes of ${key}`);
    },
  });
  const callers = [loading.fetch('k'), loading.fetch('k'), loading.fetch(Buffer.from('k'))];
  release();
  const values = await Promise.all(callers);
  assert.equal(calls, 1, 'a string key and its UTF-8 bytes share one load');
  for (const value of values) assert.deepEqual(value, Buffer.from('bytes of k'));
  console.log('engine CJS: ok');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
