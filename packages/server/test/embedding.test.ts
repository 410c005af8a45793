/**
 * The embedding API: createServer(options) validates like the CLI, start()
 * resolves with the bound port, stop() closes everything and can be called
 * twice; two servers in one process are independent.
 */

import http from 'node:http';

import { ConfigError, createServer } from '../src/index';

import { request } from './support/http';
import { TEST_LIMITS } from './support/server';

const options = { ...TEST_LIMITS, host: '127.0.0.1', port: 0, logLevel: 'silent' } as const;

it('start() resolves with the port; stop() closes idle keep-alive sockets and the listener', async () => {
  const server = createServer(options);
  expect(() => server.port).toThrow(/not listening/);
  const port = await server.start();
  expect(server.port).toBe(port);
  const base = `http://127.0.0.1:${port}`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const reply = await request(base, 'GET', '/health', { agent });
  const socketClosed = new Promise((resolve) => reply.socket.once('close', resolve));
  await server.stop();
  await socketClosed;
  await server.stop(); // a second stop is harmless
  await expect(request(base, 'GET', '/health')).rejects.toThrow(/ECONNREFUSED/);
  agent.destroy();
});

it('keeps two servers in one process apart', async () => {
  const a = createServer(options);
  const b = createServer(options);
  const [portA, portB] = [await a.start(), await b.start()];
  try {
    expect(portA).not.toBe(portB);
    await request(`http://127.0.0.1:${portA}`, 'PUT', '/kv/x', { body: 'from a' });
    expect((await request(`http://127.0.0.1:${portB}`, 'GET', '/kv/x')).status).toBe(404);
    expect((await request(`http://127.0.0.1:${portA}`, 'GET', '/kv/x')).text).toBe('from a');
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

it('validates options like the CLI does', () => {
  expect(() => createServer({ ...options, port: 70_000 })).toThrow(ConfigError);
  expect(() => createServer({ ...options, maxKeys: 0 })).toThrow(/invalid option maxKeys=0/);
  expect(() => createServer({ ...options, maxBytes: 4096 })).toThrow(/cache cannot be built/);
});
