/**
 * `nodes`: client-side hashing over three real slabcache servers. Every key
 * lives on the node the client picks; batches are split by node; when a node
 * goes away its keys fail over to their next-best node (reads miss, writes
 * land there) with no error; when it comes back on its address, its keys go
 * back to it.
 */

import net from 'node:net';

import { createServer, type SlabcacheServer } from '@slabcache/server';

import { SlabcacheClient } from '../src/index';

jest.setTimeout(60_000);

const LIMITS = { host: '127.0.0.1', logLevel: 'silent', maxKeys: 10_000, maxBytes: 32 * 1024 * 1024 } as const;

async function startNode(port = 0): Promise<{ server: SlabcacheServer; url: string }> {
  const server = createServer({ ...LIMITS, port });
  const bound = await server.start();
  return { server, url: `http://127.0.0.1:${bound}` };
}

/** True when nothing listens on `port` (a plain bind, which fails for any listener, SO_REUSEPORT or not). */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/**
 * Fixed ports (this suite's range, 18460-18479), not port 0: uWS listens on a
 * fixed port with SO_REUSEADDR/SO_REUSEPORT, so a node can come back on its
 * address at once, past the TIME_WAIT sockets its stop left behind.
 */
async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let port = 18460; port < 18480 && ports.length < count; port++) if (await portIsFree(port)) ports.push(port);
  if (ports.length < count) throw new Error('no free ports in 18460-18479');
  return ports;
}

let nodes: { server: SlabcacheServer; url: string }[];
beforeAll(async () => {
  const ports = await freePorts(3);
  nodes = [await startNode(ports[0]), await startNode(ports[1]), await startNode(ports[2])];
});
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.server.stop()));
});

const KEYS = Array.from({ length: 300 }, (_, i) => `user:${i}`);
const serverOf = (url: string): SlabcacheServer => nodes.find((n) => n.url === url)!.server;

it('spreads keys over every node; each value lives only on the node its key hashes to', async () => {
  const client = new SlabcacheClient({ nodes: nodes.map((n) => n.url) });
  try {
    expect(await client.setMany(KEYS.map((key) => ({ key, value: `v-${key}` })))).toBe(KEYS.length);
    const owners = await Promise.all(KEYS.map((key) => client.nodeFor(key)));
    for (const node of nodes) {
      const mine = KEYS.filter((_, i) => owners[i] === node.url);
      // 300 keys over 3 nodes: each gets a fair share (HRW is uniform; 60 is far below 100 ± noise).
      expect(mine.length).toBeGreaterThan(60);
      expect(node.server.cache.size).toBe(mine.length);
      for (const key of mine) expect(node.server.cache.get(key)).toBe(`v-${key}`);
    }
    expect(await client.getMany(KEYS)).toEqual(KEYS.map((key) => `v-${key}`));
    await client.set('single', 'one');
    expect(serverOf(await client.nodeFor('single')).cache.get('single')).toBe('one');
    expect(await client.get('single')).toBe('one');
    // The list's order does not matter: another client with the nodes reversed agrees.
    const reversed = new SlabcacheClient({ nodes: [...nodes.map((n) => n.url)].reverse() });
    expect(await Promise.all(KEYS.map((key) => reversed.nodeFor(key)))).toEqual(owners);
    await reversed.close();
    expect(await client.deleteMany(KEYS.slice(0, 10))).toBe(10);
  } finally {
    await client.close();
  }
});

it('when a node goes away its keys fail over without errors, and go back when it returns', async () => {
  const urls = nodes.map((n) => n.url);
  const client = new SlabcacheClient({ nodes: urls, nodeDownMs: 60_000, retryDelay: 1 });
  const eager = new SlabcacheClient({ nodes: urls, nodeDownMs: 0, retryDelay: 1 });
  try {
    await client.setMany(KEYS.map((key) => ({ key, value: `v-${key}` })));
    const owners = await Promise.all(KEYS.map((key) => client.nodeFor(key)));
    const gone = nodes[1]!;
    const goneKeys = KEYS.filter((_, i) => owners[i] === gone.url);
    const keptKeys = KEYS.filter((_, i) => owners[i] !== gone.url);
    const port = Number(new URL(gone.url).port);
    await gone.server.stop();

    // Reads: the gone node's keys miss, the others are intact; no call throws.
    const values = await client.getMany(KEYS);
    KEYS.forEach((key, i) => expect(values[i]).toBe(owners[i] === gone.url ? undefined : `v-${key}`));
    expect(await client.get(goneKeys[0]!)).toBeUndefined();
    expect(await client.get(keptKeys[0]!)).toBe(`v-${keptKeys[0]}`);
    // Its keys now belong to the other nodes, each to its second-best; the others did not move.
    const successors = await Promise.all(goneKeys.map((key) => client.nodeFor(key)));
    expect(successors.every((url) => url !== gone.url)).toBe(true);
    expect(new Set(successors).size).toBe(2);
    for (const key of keptKeys.slice(0, 50)) expect(await client.nodeFor(key)).toBe(owners[KEYS.indexOf(key)]);
    // Writes land on the successor.
    await client.set(goneKeys[0]!, 'rewritten');
    expect(serverOf(successors[0]!).cache.get(goneKeys[0]!)).toBe('rewritten');
    expect(await client.setMany(goneKeys.slice(1, 6).map((key) => ({ key, value: 'moved' })))).toBe(5);
    expect(await client.getMany(goneKeys.slice(1, 6))).toEqual(Array(5).fill('moved'));
    expect((await client.health()).ok).toBe(false);

    // The node comes back on the same address (empty: it had no snapshot).
    const back = await startNode(port);
    nodes[1] = back;
    // A client that skips a failed node for 60 s keeps using the successors meanwhile...
    expect(await client.nodeFor(goneKeys[0]!)).toBe(successors[0]);
    // ...one that tries it again at once sends its keys back to it.
    expect(await eager.nodeFor(goneKeys[0]!)).toBe(back.url);
    await eager.set(goneKeys[0]!, 'home again');
    expect(back.server.cache.get(goneKeys[0]!)).toBe('home again');
    expect(await eager.get(goneKeys[0]!)).toBe('home again');
    expect((await eager.health()).ok).toBe(true);
  } finally {
    await client.close();
    await eager.close();
  }
});

it('with every node gone, calls fail with SlabcacheConnectionError', async () => {
  const dead = await startNode();
  await dead.server.stop();
  const client = new SlabcacheClient({ nodes: [dead.url, `${dead.url}/other`], retryDelay: 1 });
  try {
    await expect(client.get('k')).rejects.toMatchObject({ code: 'connection_failed' });
    await expect(client.getMany(['a', 'b', 'c'])).rejects.toMatchObject({ code: 'connection_failed' });
  } finally {
    await client.close();
  }
});
