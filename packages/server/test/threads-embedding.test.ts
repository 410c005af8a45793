/**
 * createServer({ threads: 2 }) embedded in this (jest) process: the server
 * threads boot from source, serve one cache that the embedding thread also
 * reads and writes through `server.cache`, and stop() returns once every
 * thread has exited (no abort of this process).
 */

import { createServer } from '../src/index';

import { request } from './support/http';
import { TEST_LIMITS } from './support/server';

jest.setTimeout(30_000);

it('the embedding thread and both server threads share one cache; stop() waits for every thread', async () => {
  const server = createServer({ ...TEST_LIMITS, host: '127.0.0.1', port: 0, logLevel: 'silent', threads: 2 });
  expect(server.config.threads).toBe(2);
  const port = await server.start();
  expect(server.port).toBe(port);
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; i < 20; i++) {
      const put = await request(base, 'POST', '/put', { body: JSON.stringify({ key: `e${i}`, value: `from http ${i}` }) });
      expect(put.status).toBe(200);
    }
    // Written by the server threads, read here.
    expect(server.cache.get('e7')).toBe('from http 7');
    // Written here, read through the server threads.
    server.cache.set('from-embedder', 'hello');
    expect((await request(base, 'GET', '/get?key=from-embedder')).json).toEqual({ key: 'from-embedder', value: 'hello' });
    const counts = server.metrics.threadRequests();
    expect(counts.map((t) => t.id)).toEqual([0, 1]);
    expect(counts.reduce((sum, t) => sum + t.requests, 0)).toBe(21);
  } finally {
    await server.stop();
  }
  await expect(request(base, 'GET', '/health')).rejects.toThrow(/ECONNREFUSED/);
  // The cache outlives the threads: it belongs to the embedding thread.
  expect(server.cache.size).toBe(21);
});

it('createServer defaults to one thread when embedded', () => {
  const server = createServer({ ...TEST_LIMITS, host: '127.0.0.1', port: 0, logLevel: 'silent' });
  expect(server.config.threads).toBe(1);
});
