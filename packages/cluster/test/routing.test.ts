/**
 * Issue 16: every route is routable by key through the real HAProxy router.
 *
 * For each key, exactly one node may hold it, and every route that names the
 * key (the seed's /put with the key only in the JSON body, /put?key=,
 * /get?key=, GET/PUT/DELETE /kv/<key>) must reach that node. Where HAProxy
 * cannot read a key from a /put body, the write is refused, never stored on a
 * node the key does not hash to. Ports 17320-17323.
 */

import type { LocalCluster } from '../src/cluster';
import { serverStats } from '../src/runtime-api';

import { call, destroyAgent, errorCode, getKey, homesOf, putJson, startTestCluster } from './support/cluster';

const PORT = 17320;
let cluster: LocalCluster;
let router: string;

beforeAll(async () => {
  cluster = await startTestCluster(3, PORT);
  router = cluster.router.url;
}, 120_000);

afterAll(async () => {
  destroyAgent();
  await cluster?.stop();
}, 60_000);

/** Where `key` is stored: the ids of the nodes that hold it (asked directly). */
async function holders(key: string): Promise<number[]> {
  return (await homesOf(cluster, [key])).get(key) ?? [];
}

const TRICKY_KEYS = [
  'plain',
  'a b+c&d=e%f#g/h?i;j',
  'café 🔑 ключ',
  'tab\there\nnewline\rreturn',
  'quote " and backslash \\',
  '__proto__',
  'k'.repeat(1024),
];

describe('one key, one node, whatever the route', () => {
  it.each(TRICKY_KEYS.map((key) => [key.length > 40 ? `${key.slice(0, 20)}… (${key.length} chars)` : JSON.stringify(key), key]))(
    '%s',
    async (_name, key) => {
      const k = encodeURIComponent(key);
      expect((await putJson(router, key, 'from /put')).status).toBe(200);
      const home = await holders(key);
      expect(home).toHaveLength(1);
      const [homeNode] = home as [number];
      const direct = cluster.node(homeNode).url;

      expect(await getKey(router, key)).toMatchObject({ status: 200, body: JSON.stringify({ key, value: 'from /put' }) });
      expect(await call(router, 'GET', `/kv/${k}`)).toMatchObject({ status: 200, body: 'from /put' });

      expect((await call(router, 'PUT', `/kv/${k}`, 'from /kv', { 'content-type': 'text/plain' })).status).toBe(200);
      expect(await call(direct, 'GET', `/kv/${k}`)).toMatchObject({ status: 200, body: 'from /kv' });

      const routable = await call(router, 'PUT', `/put?key=${k}`, JSON.stringify({ key, value: 'from /put?key=' }));
      expect(routable.status).toBe(200);
      expect(await getKey(direct, key)).toMatchObject({ status: 200, body: JSON.stringify({ key, value: 'from /put?key=' }) });

      expect((await call(router, 'DELETE', `/kv/${k}`)).status).toBe(200);
      expect(await holders(key)).toEqual([]);
    },
    30_000,
  );

  it('sends a /get with form encoding (+ for a space) to the same node as the body key', async () => {
    expect((await putJson(router, 'two words', 'v')).status).toBe(200);
    expect((await call(router, 'GET', '/get?key=two+words')).status).toBe(200);
    expect((await call(router, 'GET', '/get?key=two%20words')).status).toBe(200);
  });

  it('routes the seed\'s curl body (keys in JSON with escapes HAProxy decodes: \\t \\" \\\\ \\u0041)', async () => {
    const body = '{"key":"esc\\t\\"\\\\\\u0041","value":"v"}';
    expect(JSON.parse(body).key).toBe('esc\t"\\A');
    expect((await call(router, 'POST', '/put', body)).status).toBe(200);
    expect(await holders('esc\t"\\A')).toHaveLength(1);
    expect((await getKey(router, 'esc\t"\\A')).status).toBe(200);
  });
});

describe('what the router cannot read is refused, not misplaced', () => {
  it('\\u escapes of non-ASCII characters (as Python\'s json.dumps writes them): 400 key_mismatch from the node', async () => {
    // HAProxy's json_query (2.6, and 3.0 in the Docker image's CI run) turns \u00e9 into the single byte E9, not UTF-8 C3 A9.
    const refused = await call(router, 'POST', '/put', '{"key":"caf\\u00e9-ascii","value":"v"}');
    expect([refused.status, errorCode(refused)]).toEqual([400, 'key_mismatch']);
    expect(await holders('café-ascii')).toEqual([]);
    // The routable form carries the key in the URL: stored on the key's node, found by /get.
    const routable = await call(router, 'POST', `/put?key=${encodeURIComponent('café-ascii')}`, '{"key":"caf\\u00e9-ascii","value":"v"}');
    expect(routable.status).toBe(200);
    expect(await holders('café-ascii')).toHaveLength(1);
    expect((await getKey(router, 'café-ascii')).status).toBe(200);
  });

  it('"key" given twice (HAProxy reads the first, JSON.parse keeps the last): 400 key_mismatch, nothing stored', async () => {
    const refused = await call(router, 'POST', '/put', '{"key":"dup-first","key":"dup-last","value":"v"}');
    expect([refused.status, errorCode(refused)]).toEqual([400, 'key_mismatch']);
    expect(await holders('dup-first')).toEqual([]);
    expect(await holders('dup-last')).toEqual([]);
  });

  it('a body with no string key it can read (\\/ escape, no key, not JSON): 400 unroutable_key from the router', async () => {
    for (const body of ['{"key":"a\\/b","value":"v"}', '{"value":"v"}', 'not json', '']) {
      const refused = await call(router, 'POST', '/put', body);
      expect({ body, status: refused.status, code: errorCode(refused) }).toEqual({ body, status: 400, code: 'unroutable_key' });
    }
    expect(await holders('a/b')).toEqual([]);
  });

  it('a key HAProxy reads but the node refuses (a number) gets the node\'s own 400', async () => {
    const refused = await call(router, 'POST', '/put', '{"key":7,"value":"v"}');
    expect([refused.status, errorCode(refused)]).toEqual([400, 'invalid_body']);
    expect(await holders('7')).toEqual([]);
  });

  it('a large value: key first is read from the first 15 KiB; key last is refused; ?key= always works', async () => {
    const value = 'x'.repeat(200_000);
    expect((await call(router, 'POST', '/put', JSON.stringify({ key: 'big-first', value }))).status).toBe(200);
    expect(await holders('big-first')).toHaveLength(1);
    expect((await getKey(router, 'big-first')).body).toBe(JSON.stringify({ key: 'big-first', value }));

    const keyLast = `{"value":"${value}","key":"big-last"}`;
    const refused = await call(router, 'POST', '/put', keyLast);
    expect([refused.status, errorCode(refused)]).toEqual([400, 'unroutable_key']);
    expect(await holders('big-last')).toEqual([]);

    expect((await call(router, 'POST', '/put?key=big-last', keyLast)).status).toBe(200);
    expect(await holders('big-last')).toHaveLength(1);
    expect((await getKey(router, 'big-last')).status).toBe(200);
  });

  it('a chunked /put is read the same way', async () => {
    const answer = await call(router, 'POST', '/put', JSON.stringify({ key: 'chunked', value: 'v'.repeat(50_000) }), { 'transfer-encoding': 'chunked' });
    expect(answer.status).toBe(200);
    expect(await holders('chunked')).toHaveLength(1);
  });
});

describe('the router itself', () => {
  it('answers /health itself and refuses /stats and /metrics (they are per node)', async () => {
    expect(await call(router, 'GET', '/health')).toMatchObject({ status: 200, body: '{"status":"ok"}' });
    for (const path of ['/stats', '/metrics']) {
      const answer = await call(router, 'GET', path);
      expect([answer.status, errorCode(answer)]).toEqual([404, 'route_not_found']);
    }
  });

  it('refuses batches (issue 17): their keys live on several nodes', async () => {
    for (const path of ['/mget', '/mset', '/mdel']) {
      const refused = await call(router, 'POST', path, '{"keys":["a","b"]}');
      expect([path, refused.status, errorCode(refused)]).toEqual([path, 400, 'unroutable_batch']);
    }
  });

  it('passes the nodes\' own answers through: 405 for GET /put, 404 for an unknown route, 400 for a missing key', async () => {
    expect(errorCode(await call(router, 'GET', '/put'))).toBe('method_not_allowed');
    expect(errorCode(await call(router, 'GET', '/nope'))).toBe('route_not_found');
    expect(errorCode(await call(router, 'GET', '/get'))).toBe('missing_key');
  });

  it('talks HTTP/1.1 to the nodes and reuses its connections (keep-alive)', async () => {
    const before = await connectionCounters();
    const requests = 300;
    for (let i = 0; i < requests; i++) expect((await getKey(router, `keep-alive-${i % 30}`)).status).toBe(404);
    const after = await connectionCounters();
    // Every answer came from a node (uWS does not answer HTTP/1.0 at all). New connections to
    // the nodes: a handful at most, not one per request.
    const sessions = after.sessions - before.sessions;
    const connects = after.connects - before.connects;
    expect(sessions).toBeGreaterThanOrEqual(requests);
    expect(connects).toBeLessThanOrEqual(10);
    expect(after.reuses - before.reuses).toBeGreaterThanOrEqual(requests - connects);
  });
});

/** Sums over the nodes of HAProxy's per-server counters: requests sent, connections opened, connections reused. */
async function connectionCounters(): Promise<{ sessions: number; connects: number; reuses: number }> {
  const csv = await import('../src/runtime-api').then((api) => api.runtimeCommand(cluster.router.adminSocket, 'show stat'));
  const [header, ...rows] = csv.split('\n').filter((line) => line !== '');
  const columns = (header ?? '').slice(2).split(',');
  const sum = (name: string) =>
    rows
      .map((row) => row.split(','))
      .filter((fields) => fields[0] === 'nodes' && fields[1]?.startsWith('node'))
      .reduce((total, fields) => total + Number(fields[columns.indexOf(name)] ?? 0), 0);
  // Sanity: the parser in runtime-api.ts sees the same servers.
  expect((await serverStats(cluster.router.adminSocket)).filter((s) => s.backend === 'nodes')).toHaveLength(3);
  return { sessions: sum('stot'), connects: sum('connect'), reuses: sum('reuse') };
}
