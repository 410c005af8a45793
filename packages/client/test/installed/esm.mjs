// The installed client through `import`, against the installed server on a free port:
// single keys, TTLs, batches, compare-and-set and a typed server error.
import assert from 'node:assert/strict';

import { SlabcacheClient, SlabcacheServerError } from '@slabcache/client';
import { createServer } from '@slabcache/server';

const server = createServer({ port: 0, host: '127.0.0.1', maxKeys: 1000, maxBytes: 16 * 2 ** 20, logLevel: 'warn' });
const port = await server.start();
const client = new SlabcacheClient({ url: `http://127.0.0.1:${port}` });
try {
  await client.set('greeting', 'hello', { ttl: 60_000 });
  assert.equal(await client.get('greeting'), 'hello');
  assert.equal(await client.get('nope'), undefined, 'a miss is undefined, not an error');

  assert.equal(await client.setMany([{ key: 'a', value: '1' }, { key: 'b', value: '2' }]), 2);
  assert.deepEqual(await client.getMany(['a', 'b', 'nope']), ['1', '2', undefined]);
  assert.equal(await client.deleteMany(['a', 'nope']), 1);

  const first = await client.cas('counter', '1', 0);
  assert.ok(first > 0, 'cas with version 0 creates the key');
  assert.equal(await client.cas('counter', '2', first + 1000), 0, 'a stale version stores nothing');
  assert.equal(await client.get('counter'), '1');

  await assert.rejects(client.set('', 'x'), (error) => error instanceof SlabcacheServerError || error instanceof TypeError);
} finally {
  await client.close();
  await server.stop();
}
console.log('client ESM: ok');
