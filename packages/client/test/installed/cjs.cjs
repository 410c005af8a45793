// The installed client through `require` (its CommonJS build). The server is ESM only, so it is
// loaded with import(), which works on every Node this package supports.
const assert = require('node:assert/strict');

const { SlabcacheClient, SlabcacheConnectionError } = require('@slabcache/client');

assert.match(require.resolve('@slabcache/client'), /[\\/]dist[\\/]cjs[\\/]index\.js$/);

async function main() {
  const { createServer } = await import('@slabcache/server');
  const server = createServer({ port: 0, host: '127.0.0.1', maxKeys: 1000, maxBytes: 16 * 2 ** 20, logLevel: 'warn' });
  const port = await server.start();
  const client = new SlabcacheClient({ url: `http://127.0.0.1:${port}` });
  try {
    await client.set('bytes', Uint8Array.from([0, 1, 255]));
    assert.deepEqual(await client.getBytes('bytes'), Buffer.from([0, 1, 255]));
    assert.equal(await client.delete('bytes'), true);
    assert.equal(await client.delete('bytes'), false);
    const health = await client.health();
    assert.equal(health.ok, true);
  } finally {
    await client.close();
    await server.stop();
  }

  // A server that is gone: a typed connection error, not a hang or a crash.
  const gone = new SlabcacheClient({ url: `http://127.0.0.1:${port}`, retries: 0 });
  await assert.rejects(gone.get('k'), SlabcacheConnectionError);
  await gone.close();
  console.log('client CJS: ok');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
