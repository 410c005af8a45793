// The loader's types from a CommonJS TypeScript program.
import assert = require('node:assert/strict');
import build = require('@slabcache/uws/build');

const result: build.UwsLoadResult = build.uwsLoadResult();
if (!result.loaded) throw new Error(result.message);
const name: string = result.build.packageName;
assert.ok(name.length > 0);
console.log('uws TypeScript: ok');
