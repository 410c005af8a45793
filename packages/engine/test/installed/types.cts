// A TypeScript CommonJS consumer: `import = require` resolves the CommonJS build and its types.
import assert = require('node:assert/strict');
import engine = require('@slabcache/engine');

const cache = new engine.SlabLruCache({ maxKeys: 10, maxBytes: 8 * 2 ** 20, versions: true });
const version: number = cache.setIf('k', 'v', 0);
assert.ok(version > 0);
const entry: engine.CacheEntry<string> | undefined = cache.getEntry('k');
assert.equal(entry?.version, version);
assert.equal(cache.deleteIf('k', version), true);
console.log('engine TypeScript CJS: ok');
