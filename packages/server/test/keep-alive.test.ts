/**
 * One keep-alive connection carries a mix of successes and every kind of
 * error, in order, without being closed by the server.
 */

import http from 'node:http';

import { startTestServer, type TestServer } from './support/server';

let t: TestServer;
let agent: http.Agent;
beforeAll(async () => {
  t = await startTestServer({ maxValueBytes: 1024 });
  agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
});
afterAll(async () => {
  agent.destroy();
  await t.stop();
});

it('reuses the same socket across 200, 400, 404, 405 and 413 replies', async () => {
  const steps: Array<[string, string, string | Buffer | undefined, number]> = [
    ['POST', '/put', '{"key":"a","value":"1"}', 200],
    ['POST', '/put', '{"key":', 400],
    ['GET', '/get?key=a', undefined, 200],
    ['GET', '/get?key=a&key=b', undefined, 400],
    ['GET', '/missing-route', undefined, 404],
    ['GET', '/get?key=zzz', undefined, 404],
    ['DELETE', '/put', undefined, 405],
    ['PUT', '/kv/big', Buffer.alloc(5000), 413],
    ['PUT', '/kv/b', 'bee', 200],
    ['GET', '/kv/b', undefined, 200],
    ['DELETE', '/kv/b', undefined, 200],
    ['GET', '/health', undefined, 200],
  ];
  const sockets = new Set<unknown>();
  const statuses: number[] = [];
  for (const [method, path, body] of steps) {
    const reply = await t.call(method, path, { agent, body }).catch((e: Error) => { throw new Error(`${method} ${path}: ${e.message}`); });
    statuses.push(reply.status);
    sockets.add(reply.socket);
  }
  expect(statuses).toEqual(steps.map((s) => s[3]));
  expect(sockets.size).toBe(1);
});

it('closes the connection after a HEAD reply (uWS 20.30 workaround), and the client carries on', async () => {
  await t.call('PUT', '/kv/h', { agent, body: 'hhh' });
  const head = await t.call('HEAD', '/kv/h', { agent });
  expect(head.status).toBe(200);
  expect(head.headers['content-length']).toBe('3');
  expect(head.headers['connection']).toBe('close');
  const missing = await t.call('HEAD', '/kv/nothing', { agent });
  expect(missing.status).toBe(404);
  expect(missing.headers['connection']).toBe('close');
  expect((await t.call('GET', '/kv/h', { agent })).text).toBe('hhh');
});
