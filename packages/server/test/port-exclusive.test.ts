/**
 * One server per port (src/exclusivePort.ts). uWS listens with SO_REUSEPORT,
 * so without these checks a second server on a taken port started
 * "successfully" and the kernel split connections between two caches (seen on
 * main: 8 GETs of one key answered 404 404 200 404 200 200 200 200).
 *
 * Real processes throughout: two real CLIs, and as "another program" a bare
 * uWS app in a child process, which listens with SO_REUSEPORT exactly as the
 * dangerous neighbour would.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

import { assertNoForeignListeners, PortInUseError } from '../src/exclusivePort';

import { spawnCli, type CliProcess } from './support/cli';
import { request } from './support/http';

jest.setTimeout(30_000);

const UWS_MODULE = path.join(__dirname, '../../uws/index.js');

/** A plain uWS app (SO_REUSEPORT, as uWS always listens on a non-zero port) in a child process. */
async function reusePortNeighbour(port: number): Promise<ChildProcess> {
  const code = `
    require(${JSON.stringify(UWS_MODULE)}).App().any('/*', (res) => res.end('neighbour'))
      .listen('127.0.0.1', ${port}, (socket) => console.log(socket ? 'listening' : 'failed'));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => child.stdout?.once('data', (data: Buffer) => resolve(data.toString().trim())));
  if (line !== 'listening') throw new Error(`neighbour could not listen on ${port}: ${line}`);
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** A port that is free now (the OS's pick), for tests that need a fixed non-zero port. */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen({ port: 0, host: '127.0.0.1', exclusive: true }, resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function stopCli(cli: CliProcess): Promise<void> {
  cli.child.kill('SIGTERM');
  expect(await cli.exited()).toBe(0);
}

function fatalMessage(cli: CliProcess): string {
  return JSON.stringify(cli.logs.find((l) => l['msg'] === 'cannot start') ?? cli.stderr());
}

it.each([
  ['1', '1'],
  ['2', '1'],
  ['2', '2'],
])('a second slabcache (THREADS=%s first, %s second) on a taken port exits 1 naming the port; the first keeps every connection', async (firstThreads, secondThreads) => {
  // THREADS=2 binds a fixed port with SO_REUSEPORT (pool.ts): the case the kernel would share.
  const first = spawnCli([], { THREADS: firstThreads, PORT: String(await freePort()) });
  try {
    const port = await first.listening();
    expect((await request(`http://127.0.0.1:${port}`, 'POST', '/put', { body: '{"key":"who","value":"first"}' })).status).toBe(200);

    const second = spawnCli([], { THREADS: secondThreads, PORT: String(port) });
    expect(await second.exited()).toBe(1);
    expect(fatalMessage(second)).toContain(`127.0.0.1:${port} is already in use by another program (EADDRINUSE)`);
    expect(second.logs.some((l) => l['msg'] === 'listening')).toBe(false);

    // Every new connection still reaches the first server's cache.
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      statuses.push((await request(`http://127.0.0.1:${port}`, 'GET', '/get?key=who', { headers: { connection: 'close' } })).status);
    }
    expect(statuses).toEqual(Array.from({ length: 20 }, () => 200));
  } finally {
    await stopCli(first);
  }
});

it('refuses a port that another program holds with SO_REUSEPORT (exit 1, naming the port)', async () => {
  const port = await freePort();
  const neighbour = await reusePortNeighbour(port);
  try {
    for (const threads of ['1', '2']) {
      const cli = spawnCli([], { THREADS: threads, PORT: String(port) });
      expect(await cli.exited()).toBe(1);
      expect(fatalMessage(cli)).toContain(`127.0.0.1:${port} is already in use by another program`);
    }
  } finally {
    await stopChild(neighbour);
  }
});

it('after binding, a listener of another process sharing the port is found; our own sockets are not', async () => {
  const port = await freePort();
  // Nothing listens: nothing foreign.
  expect(() => assertNoForeignListeners('127.0.0.1', port)).not.toThrow();

  // Our own SO_REUSEPORT listener (a uWS app in this process) is ours, on the exact address and on the wildcard.
  const uws = require(UWS_MODULE) as { App(): { listen(host: string, port: number, cb: (socket: unknown) => void): void; close(): void } };
  const ownApp = uws.App();
  const ownSocket = await new Promise((resolve) => ownApp.listen('127.0.0.1', port, resolve));
  expect(ownSocket).toBeTruthy();
  try {
    expect(() => assertNoForeignListeners('127.0.0.1', port)).not.toThrow();
    expect(() => assertNoForeignListeners('0.0.0.0', port)).not.toThrow();

    // Another process joins the same port with SO_REUSEPORT, as a server started at the same moment would.
    const neighbour = await reusePortNeighbour(port);
    try {
      expect(() => assertNoForeignListeners('127.0.0.1', port)).toThrow(PortInUseError);
      expect(() => assertNoForeignListeners('127.0.0.1', port)).toThrow(`127.0.0.1:${port} is also held by another program that listens with SO_REUSEPORT`);
      // A listener on another port or another address does not count.
      expect(() => assertNoForeignListeners('127.0.0.1', port === 65535 ? port - 1 : port + 1)).not.toThrow();
      expect(() => assertNoForeignListeners('127.0.0.2', port)).not.toThrow();
    } finally {
      await stopChild(neighbour);
    }
  } finally {
    ownApp.close();
  }
});
