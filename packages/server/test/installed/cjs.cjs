// The installed server through `require`. The server is ESM only: this works through Node's
// require(esm) (Node 20.19+, 22.12+), which is what the check proves on this Node.
const assert = require('node:assert/strict');

const { createServer } = require('@slabcache/server');

async function main() {
  const server = createServer({ port: 0, host: '127.0.0.1', maxKeys: 1000, maxBytes: 16 * 2 ** 20, logLevel: 'warn' });
  const port = await server.start();
  try {
    const put = await fetch(`http://127.0.0.1:${port}/put`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'k', value: 'v' }),
    });
    assert.equal(put.status, 200);
    const get = await fetch(`http://127.0.0.1:${port}/get?key=k`);
    assert.deepEqual(await get.json(), { key: 'k', value: 'v' });
  } finally {
    await server.stop();
  }
  console.log('server CJS (require of ESM): ok');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
