/**
 * No request goes unanswered where the uWS build lets JavaScript answer it
 * (docs/runtimes.md):
 *
 * - unknown and lowercase method tokens (PROPFIND, BREW, `get`): uWS 20.57
 *   routes them to the app, which answers 405 in the JSON error shape (404 on
 *   an unknown path). uWS 20.30 closes such a connection in C++ before any
 *   JavaScript runs: proved here with a bare uWS app whose catch-all route
 *   counts its calls;
 * - HTTP/1.0 (ApacheBench, nginx's default towards upstreams): uWS 20.57
 *   answers 505 at once and closes; 20.30's parser waits for more bytes and
 *   cuts the connection at its idle deadline with no reply, again without
 *   JavaScript seeing anything (proved the same way; ~10 s on 20.30).
 */

import net from 'node:net';
import path from 'node:path';

import { sendRaw } from './support/raw-http';
import { startTestServer, type TestServer } from './support/server';
import { UWS_ANSWERS_PARSER_ERRORS, UWS_BUILD } from './support/uws';

jest.setTimeout(60_000);

const UWS_MODULE = path.join(__dirname, '../../uws/index.js');

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  expect((await t.call('POST', '/put', { body: '{"key":"x","value":"kept"}' })).status).toBe(200);
});
afterAll(() => t.stop());

/** Sends `text` on a new connection; resolves with every byte received once the server closes it. */
function untilClosed(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let received = '';
    socket.on('data', (data: Buffer) => (received += data.toString('latin1')));
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
    socket.on('close', () => resolve(received));
  });
}

/** A bare uWS app in this process whose catch-all route counts the requests JavaScript sees. */
async function countingUwsApp(): Promise<{ port: number; calls: () => number; close(): void }> {
  const uws = require(UWS_MODULE) as {
    App(): {
      any(pattern: string, handler: (res: { end(body: string): void }) => void): unknown;
      listen(host: string, port: number, cb: (socket: unknown) => void): void;
      close(): void;
    };
    us_socket_local_port(socket: unknown): number;
  };
  let calls = 0;
  const app = uws.App();
  app.any('/*', (res) => {
    calls++;
    res.end('seen');
  });
  const socket = await new Promise<unknown>((resolve) => app.listen('127.0.0.1', 0, resolve));
  return { port: uws.us_socket_local_port(socket), calls: () => calls, close: () => app.close() };
}

const ODD_METHODS = ['PROPFIND', 'BREW', 'get', 'Get', 'post'];

if (UWS_ANSWERS_PARSER_ERRORS) {
  it.each(ODD_METHODS)('uWS 20.57: %s /get?key=x is answered 405 in the JSON error shape, with Allow', async (method) => {
    const outcome = await sendRaw(t.server.port, Buffer.from(`${method} /get?key=x HTTP/1.1\r\nHost: x\r\n\r\n`, 'latin1'), { giveUpMs: 10_000 });
    if (outcome.kind !== 'response') throw new Error(`no reply: ${JSON.stringify(outcome.received)}`);
    expect(outcome.response.status).toBe(405);
    expect(outcome.response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(outcome.response.headers['allow']).toBe('GET');
    const { error } = JSON.parse(outcome.response.body.toString('utf8')) as { error: { code: string; message: string } };
    expect(error.code).toBe('method_not_allowed');
    expect(error.message).toBe(
      ['get', 'Get'].includes(method)
        ? 'methods are case-sensitive: send GET in upper case (/get allows GET)'
        : `${method.toUpperCase()} is not allowed on /get; use GET`,
    );
  });

  it('uWS 20.57: an odd method on an unknown path is answered 404 in the JSON error shape', async () => {
    const outcome = await sendRaw(t.server.port, Buffer.from('PROPFIND /nope HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'), { giveUpMs: 10_000 });
    if (outcome.kind !== 'response') throw new Error('no reply');
    expect(outcome.response.status).toBe(404);
    expect(JSON.parse(outcome.response.body.toString('utf8'))).toEqual({ error: { code: 'route_not_found', message: 'no route for PROPFIND /nope' } });
  });

  it.each([
    ['HTTP/1.0', 'GET /get?key=x HTTP/1.0\r\n\r\n'],
    ['HTTP/1.0 with Host and keep-alive', 'GET /get?key=x HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n'],
  ])('uWS 20.57: %s is answered 505 HTTP Version Not Supported, and the connection closed', async (_, text) => {
    const received = await untilClosed(t.server.port, text);
    expect(received).toMatch(/^HTTP\/1\.1 505 HTTP Version Not Supported\r\n/);
    expect(received).toContain('\r\nConnection: close\r\n');
    // The server serves on.
    expect((await t.call('GET', '/get?key=x')).json).toEqual({ key: 'x', value: 'kept' });
  });
} else {
  it.each(ODD_METHODS.filter((method) => method !== 'post'))(
    'uWS 20.30: %s is closed by uWS in C++ with no reply, before any JavaScript runs (documented limit)',
    async (method) => {
      const app = await countingUwsApp();
      try {
        expect(await untilClosed(app.port, `${method} /get?key=x HTTP/1.1\r\nHost: x\r\n\r\n`)).toBe('');
        // The same connection kind with a known method does reach JavaScript: the route works.
        expect(await untilClosed(app.port, 'GET /get?key=x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toContain('seen');
        expect(app.calls()).toBe(1);
        // Our server does the same: closed, nothing sent, nothing counted.
        expect(await untilClosed(t.server.port, `${method} /get?key=x HTTP/1.1\r\nHost: x\r\n\r\n`)).toBe('');
      } finally {
        app.close();
      }
    },
  );

  it('uWS 20.30: HTTP/1.0 never reaches JavaScript; uWS cuts it at its idle deadline with no reply (documented limit)', async () => {
    const app = await countingUwsApp();
    try {
      const [bare, ours] = await Promise.all([
        untilClosed(app.port, 'GET /get?key=x HTTP/1.0\r\nHost: x\r\n\r\n'),
        untilClosed(t.server.port, 'GET /get?key=x HTTP/1.0\r\n\r\n'),
      ]);
      expect([bare, ours]).toEqual(['', '']);
      expect(app.calls()).toBe(0);
      expect((await t.call('GET', '/get?key=x')).json).toEqual({ key: 'x', value: 'kept' });
    } finally {
      app.close();
    }
  });
}

it(`names the uWS build (${UWS_BUILD}) and the Node version in /stats`, async () => {
  const stats = (await t.call('GET', '/stats')).json as { runtime: Record<string, unknown> };
  expect(stats.runtime).toMatchObject({ node: process.version, uws: UWS_BUILD });
  expect(String(stats.runtime['uws_package'])).toMatch(UWS_BUILD === '20.57' ? /^@btc-vision\/uwebsockets\.js@20\.57\.0$/ : /^@trufflesuite\/uws-js-unofficial@20\.30\.0/);
});
