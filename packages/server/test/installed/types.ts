// A TypeScript consumer embedding the server; its cache is the engine's SlabLruCache type.
import assert from 'node:assert/strict';

import type { SlabLruCache } from '@slabcache/engine';
import { createServer, type SlabcacheServer } from '@slabcache/server';

const server: SlabcacheServer = createServer({ port: 0, host: '127.0.0.1', maxKeys: 1000, maxBytes: 16 * 2 ** 20, logLevel: 'warn' });
const cache: SlabLruCache = server.cache;
const port: number = await server.start();
assert.ok(port > 0);
assert.equal(cache.size, 0);
await server.stop();
console.log('server TypeScript: ok');
