// The installed server embedded through `import`, with two HTTP threads (the
// worker entry is found inside the installed package): put/get over HTTP, then stop.
import assert from 'node:assert/strict';

import { createServer } from '@slabcache/server';

const server = createServer({ port: 0, host: '127.0.0.1', threads: 2, maxKeys: 10_000, maxBytes: 32 * 2 ** 20, logLevel: 'warn' });
const port = await server.start();
try {
  const base = `http://127.0.0.1:${port}`;
  const put = await fetch(`${base}/put`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key: 'foo', value: 'bar' }),
  });
  assert.equal(put.status, 200, await put.text());
  // Several requests, so both threads answer some (new connection each: no keep-alive).
  for (let i = 0; i < 6; i++) {
    const get = await fetch(`${base}/get?key=foo`, { headers: { connection: 'close' } });
    assert.equal(get.status, 200);
    assert.deepEqual(await get.json(), { key: 'foo', value: 'bar' });
  }
  assert.equal((await fetch(`${base}/get?key=nope`)).status, 404);
} finally {
  await server.stop();
}
console.log('server ESM: ok');
