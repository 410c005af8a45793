/**
 * The client's time budget, abort, and retries, against servers that
 * misbehave on purpose: a TCP server that accepts and never answers, and an
 * HTTP server that answers 503 `cache_locked` a given number of times first
 * (what a slabcache server answers when a thread died holding the cache lock,
 * which cannot be staged on a healthy one). The verdicts are counts and error
 * types; the only clock is the client's own budget.
 */

import http from 'node:http';
import net, { type AddressInfo } from 'node:net';

import { SlabcacheAbortError, SlabcacheClient, SlabcacheConnectionError, SlabcacheServerError, SlabcacheTimeoutError } from '../src/index';

/** Accepts connections and never answers; counts them. */
async function silentServer(): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let count = 0;
  const server = net.createServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => count,
    close: () => {
      sockets.forEach((s) => s.destroy());
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Answers 503 cache_locked to the first `failures` requests, then 200 "ok" with an ETag; counts requests. */
async function flakyServer(failures: number): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let count = 0;
  const server = http.createServer((req, res) => {
    count++;
    req.resume();
    req.on('end', () => {
      if (count <= failures) {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end('{"error":{"code":"cache_locked","message":"the shared cache is locked by another server thread; try again"}}');
      } else {
        res.writeHead(200, { 'content-type': 'application/octet-stream', etag: '"7"' });
        res.end(req.method === 'PUT' ? '{"ok":true,"version":7}' : 'ok');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => count,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

it('a call that gets no answer fails with SlabcacheTimeoutError at its timeout', async () => {
  const silent = await silentServer();
  const client = new SlabcacheClient({ url: silent.url, timeout: 300 });
  try {
    const error = await client.get('k').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlabcacheTimeoutError);
    expect(error).toMatchObject({ code: 'timeout', timeoutMs: 300, node: silent.url });
    // A per-call timeout overrides the client's.
    await expect(client.set('k', 'v', { timeout: 50 })).rejects.toMatchObject({ code: 'timeout', timeoutMs: 50 });
  } finally {
    await client.close().catch(() => undefined);
    await silent.close();
  }
});

it("an AbortSignal aborts a call in flight, and an aborted one never connects; the cause is the signal's reason", async () => {
  const silent = await silentServer();
  const client = new SlabcacheClient({ url: silent.url, timeout: 60_000 });
  try {
    const controller = new AbortController();
    const call = client.getMany(['a', 'b'], { signal: controller.signal });
    // Abort once the request has reached the server (an event, not a delay).
    while (silent.connections() === 0) await new Promise((resolve) => setImmediate(resolve));
    const reason = new Error('user went away');
    controller.abort(reason);
    const error = await call.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlabcacheAbortError);
    expect((error as SlabcacheAbortError).cause).toBe(reason);

    const before = silent.connections();
    const aborted = AbortSignal.abort('already');
    await expect(client.get('x', { signal: aborted })).rejects.toMatchObject({ code: 'aborted', cause: 'already' });
    expect(silent.connections()).toBe(before);
  } finally {
    await client.close().catch(() => undefined);
    await silent.close();
  }
});

it('retries an idempotent call after 503 (up to `retries`), never a cas', async () => {
  const flaky = await flakyServer(2);
  const client = new SlabcacheClient({ url: flaky.url, retries: 2, retryDelay: 1 });
  try {
    expect(await client.get('k')).toBe('ok');
    expect(flaky.requests()).toBe(3);
  } finally {
    await client.close();
    await flaky.close();
  }

  const once = await flakyServer(1);
  const casClient = new SlabcacheClient({ url: once.url, retries: 2, retryDelay: 1 });
  try {
    const error = await casClient.cas('k', 'v', 3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlabcacheServerError);
    expect(error).toMatchObject({ status: 503, code: 'cache_locked' });
    expect(once.requests()).toBe(1);
    // The same server now answers; an idempotent set goes through on its first try.
    await casClient.set('k', 'v');
    expect(once.requests()).toBe(2);
  } finally {
    await casClient.close();
    await once.close();
  }

  const always = await flakyServer(100);
  const noRetries = new SlabcacheClient({ url: always.url, retries: 0 });
  try {
    await expect(noRetries.get('k')).rejects.toMatchObject({ code: 'cache_locked' });
    expect(always.requests()).toBe(1);
  } finally {
    await noRetries.close();
    await always.close();
  }
});

it('a node that refuses connections fails with SlabcacheConnectionError once the retries are spent', async () => {
  const silent = await silentServer();
  const url = silent.url;
  await silent.close(); // nothing listens there now
  const client = new SlabcacheClient({ url, retries: 1, retryDelay: 1 });
  try {
    const error = await client.get('k').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlabcacheConnectionError);
    expect((error as SlabcacheConnectionError).message).toMatch(/ECONNREFUSED/);
    expect(await client.health()).toMatchObject({ ok: false, nodes: [{ url, ok: false }] });
  } finally {
    await client.close();
  }
});
