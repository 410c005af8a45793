// The installed loader through `import`.
import assert from 'node:assert/strict';

import uws from '@slabcache/uws';
import build from '@slabcache/uws/build';

assert.equal(typeof uws.App, 'function');
assert.equal(build.uwsLoadResult().uws, uws);
console.log('uws ESM: ok');
