// A TypeScript ESM consumer, compiled with strict tsc against the installed types, then run.
import assert from 'node:assert/strict';

import { SlabcacheClient, type ClientOptions, type Entry, type ServerErrorCode } from '@slabcache/client';
import { createServer } from '@slabcache/server';

const server = createServer({ port: 0, host: '127.0.0.1', maxKeys: 100, maxBytes: 8 * 2 ** 20, logLevel: 'warn' });
const port = await server.start();
const options: ClientOptions = { url: `http://127.0.0.1:${port}`, timeout: 10_000 };
const client = new SlabcacheClient(options);
try {
  await client.set('k', 'v', { contentType: 'text/plain' });
  const entry: Entry | undefined = await client.getEntry('k');
  assert.equal(entry?.contentType, 'text/plain');
  assert.ok((entry?.version ?? 0) > 0);
  const code: ServerErrorCode = 'value_too_large';
  assert.equal(typeof code, 'string');
  // @ts-expect-error: an unknown option is a type error
  const wrong: ClientOptions = { url: options.url, retrys: 1 };
  assert.ok(wrong);
} finally {
  await client.close();
  await server.stop();
}
console.log('client TypeScript ESM: ok');
