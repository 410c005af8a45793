/**
 * Stopping the real CLI with THREADS=2 (issue 7). The main thread never
 * terminates a listening worker (that aborts the process, uws.md): it asks
 * each server thread to stop, and each closes its sockets and exits 0 before
 * the process exits 0. A second signal closes every socket at once and exits
 * 1 (not SIGABRT). A thread that cannot listen makes the CLI exit 1 cleanly.
 *
 * The one time bound is behavioural, as in shutdown.test.ts: without closing
 * idle sockets, uWS keeps a thread alive for its ~10 s idle timeout.
 */

import net from 'node:net';

import { spawnCli } from './support/cli';
import { connect, readUntilClosed } from './support/sockets';
import { request } from './support/http';

jest.setTimeout(30_000);



const stoppedThreads = (logs: Array<Record<string, unknown>>): unknown[] =>
  logs.filter((l) => l['msg'] === 'stopped' && l['thread'] !== undefined).map((l) => l['thread']);

it('SIGTERM with idle keep-alive clients: every thread closes its sockets and stops, the process exits 0', async () => {
  const cli = spawnCli([], { THREADS: '2' });
  const port = await cli.listening();
  // Enough connections that both threads almost surely hold some (the kernel spreads them).
  const sockets = await Promise.all(Array.from({ length: 12 }, () => connect(port)));
  const transcripts = sockets.map(readUntilClosed);
  for (const socket of sockets) socket.write('GET /health HTTP/1.1\r\nHost: test\r\n\r\n');
  await Promise.all(sockets.map((socket) => new Promise((resolve) => socket.once('data', resolve))));
  const signalledAt = Date.now();
  cli.child.kill('SIGTERM');
  expect(await cli.exited()).toBe(0);
  expect(Date.now() - signalledAt).toBeLessThan(8000);
  for (const transcript of await Promise.all(transcripts)) expect(transcript).toMatch(/^HTTP\/1\.1 200 OK/);
  expect(stoppedThreads(cli.logs).sort()).toEqual([0, 1]);
  expect(cli.logs.find((l) => l['msg'] === 'stopped' && l['thread'] === undefined)).toMatchObject({ threads: 2 });
});

it('an in-flight upload finishes during the stop while new connections are refused; exit 0', async () => {
  const cli = spawnCli([], { THREADS: '2' });
  const port = await cli.listening();
  const uploads = await Promise.all(Array.from({ length: 6 }, () => connect(port)));
  const replies = uploads.map(readUntilClosed);
  uploads.forEach((upload, i) =>
    upload.write(`PUT /kv/slow-${i} HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`),
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  cli.child.kill('SIGTERM');
  while (stoppedThreads(cli.logs).length === 0 && !cli.logs.some((l) => l['msg'] === 'shutting down')) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // Give both threads the moment to close their listen sockets.
  await new Promise((resolve) => setTimeout(resolve, 100));
  await expect(request(`http://127.0.0.1:${port}`, 'GET', '/health')).rejects.toThrow(/ECONNREFUSED/);
  for (const upload of uploads) upload.write('6\r\n world\r\n0\r\n\r\n');
  for (const reply of await Promise.all(replies)) {
    expect(reply).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(reply).toContain('{"ok":true}');
  }
  expect(await cli.exited()).toBe(0);
});

it('a second signal while uploads hang closes every socket at once and exits 1, without aborting', async () => {
  const cli = spawnCli([], { THREADS: '2', SHUTDOWN_TIMEOUT_MS: '20000' });
  const port = await cli.listening();
  const uploads = await Promise.all(Array.from({ length: 6 }, () => connect(port)));
  const closed = uploads.map(readUntilClosed);
  uploads.forEach((upload, i) => upload.write(`PUT /kv/stuck-${i} HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\npart`));
  await new Promise((resolve) => setTimeout(resolve, 200));
  cli.child.kill('SIGTERM');
  while (!cli.logs.some((l) => l['msg'] === 'shutting down')) await new Promise((resolve) => setTimeout(resolve, 20));
  cli.child.kill('SIGTERM');
  expect(await cli.exited()).toBe(1);
  for (const transcript of await Promise.all(closed)) expect(transcript).toBe('');
  expect(cli.logs.some((l) => l['msg'] === 'second signal during shutdown: exiting now')).toBe(true);
});

it('when the port is taken (no SO_REUSEPORT), no thread listens and the CLI exits 1 naming the port', async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen({ port: 0, host: '127.0.0.1', exclusive: true }, resolve));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    const cli = spawnCli([], { THREADS: '2', PORT: String(port) });
    expect(await cli.exited()).toBe(1);
    const fatal = cli.logs.find((l) => l['msg'] === 'cannot start');
    expect(JSON.stringify(fatal)).toContain(`127.0.0.1:${port} is already in use by another program (EADDRINUSE)`);
    expect(cli.logs.some((l) => l['msg'] === 'listening')).toBe(false);
  } finally {
    blocker.close();
  }
});
