// The installed loader through `require`: a native build loads here, and the module is uWS.
const assert = require('node:assert/strict');

const { uwsLoadResult } = require('@slabcache/uws/build');

const result = uwsLoadResult();
assert.equal(result.loaded, true, result.message);
assert.match(result.build.file, /\.node$/, 'a native binary, not the JS fallback');
const uws = require('@slabcache/uws');
assert.equal(uws, result.uws);
assert.equal(typeof uws.App, 'function');
console.log(`uws CJS: ok (build ${result.build.build}, ${result.build.packageName})`);
