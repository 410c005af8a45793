/**
 * Graceful shutdown of the real CLI process: SIGTERM/SIGINT stop accepting,
 * let in-flight requests finish, close idle keep-alive sockets and exit 0.
 *
 * The one time bound here is behavioural, not a speed claim: without closing
 * idle sockets, uWS keeps the process alive for its ~10 s idle timeout, so an
 * exit well under that shows the sockets were closed by the server.
 */


import { spawnCli } from './support/cli';
import { connect, readUntilClosed } from './support/sockets';
import { request } from './support/http';



it.each(['SIGTERM', 'SIGINT'] as const)('%s with an idle keep-alive client: the server closes it and exits 0', async (signal) => {
  const cli = spawnCli();
  const port = await cli.listening();
  const socket = await connect(port);
  const transcript = readUntilClosed(socket);
  socket.write('GET /health HTTP/1.1\r\nHost: test\r\n\r\n');
  // Wait for the answer: the connection is now idle and kept alive.
  await new Promise((resolve) => socket.once('data', resolve));
  const signalledAt = Date.now();
  cli.child.kill(signal);
  expect(await cli.exited()).toBe(0);
  const exitMs = Date.now() - signalledAt;
  expect(await transcript).toMatch(/^HTTP\/1\.1 200 OK/);
  expect(exitMs).toBeLessThan(8000);
  expect(cli.logs.map((l) => l['msg'])).toEqual(expect.arrayContaining(['listening', 'shutting down', 'stopped']));
});

it('lets an in-flight request finish, refuses new connections meanwhile, then exits 0', async () => {
  const cli = spawnCli();
  const port = await cli.listening();
  const upload = await connect(port);
  const transcript = readUntilClosed(upload);
  // A chunked upload, half sent: the request is in flight.
  upload.write('PUT /kv/slow HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
  await new Promise((resolve) => setTimeout(resolve, 200));
  cli.child.kill('SIGTERM');
  // Wait until the server has begun stopping.
  while (!cli.logs.some((l) => l['msg'] === 'shutting down')) await new Promise((resolve) => setTimeout(resolve, 20));
  await expect(request(`http://127.0.0.1:${port}`, 'GET', '/health')).rejects.toThrow(/ECONNREFUSED/);
  upload.write('6\r\n world\r\n0\r\n\r\n');
  const reply = await transcript;
  expect(reply).toMatch(/^HTTP\/1\.1 200 OK/);
  expect(reply).toContain('{"ok":true}');
  expect(await cli.exited()).toBe(0);
});

it('closes a stuck upload after SHUTDOWN_TIMEOUT_MS and still exits 0', async () => {
  const cli = spawnCli([], { SHUTDOWN_TIMEOUT_MS: '300' });
  const port = await cli.listening();
  const upload = await connect(port);
  const closed = readUntilClosed(upload);
  upload.write('PUT /kv/stuck HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\nonly part of it');
  await new Promise((resolve) => setTimeout(resolve, 200));
  cli.child.kill('SIGTERM');
  expect(await cli.exited()).toBe(0);
  expect(await closed).toBe('');
  expect(cli.logs.some((l) => l['msg'] === 'in-flight requests still running at the shutdown timeout; closing their sockets')).toBe(true);
});
