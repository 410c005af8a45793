/**
 * Issue 17: entry versions over HTTP. Reads answer the version as a strong
 * ETag; If-None-Match gives 304 (and the keep-alive connection goes on);
 * If-Match makes PUT and DELETE a compare-and-set (412 when the entry
 * changed); If-None-Match: * creates only; /put takes `ifVersion`.
 * Concurrent read-modify-CAS loops over two server threads lose no update.
 */

import http from 'node:http';

import { errorOf, request, type HttpResult } from './support/http';
import { startTestServer, TEST_LIMITS, type TestServer } from './support/server';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.stop());

const etagOf = (reply: HttpResult): string => reply.headers.etag as string;
const versionOf = (reply: HttpResult): number => Number(/^"(\d+)"$/.exec(etagOf(reply))![1]);

describe('ETag on reads', () => {
  it('/kv and /get answer the entry version as a strong ETag, the same on both routes, new on every write', async () => {
    await t.call('PUT', '/kv/etag', { body: 'one' });
    const kv = await t.call('GET', '/kv/etag');
    const get = await t.call('GET', '/get?key=etag');
    expect(etagOf(kv)).toMatch(/^"[1-9][0-9]*"$/);
    expect(etagOf(get)).toBe(etagOf(kv));
    expect(etagOf(await t.call('HEAD', '/kv/etag'))).toBe(etagOf(kv));
    expect(versionOf(kv)).toBe(t.server.cache.getEntry('etag', { peek: true })!.version);
    await t.call('PUT', '/kv/etag', { body: 'two' });
    expect(versionOf(await t.call('GET', '/kv/etag'))).toBeGreaterThan(versionOf(kv));
  });
});

describe('If-None-Match', () => {
  it('answers 304 with the ETag and no body while the entry is unchanged, 200 once it changed', async () => {
    await t.call('PUT', '/kv/cond', { body: 'v1', headers: { 'content-type': 'text/plain' } });
    const first = await t.call('GET', '/kv/cond');
    const again = await t.call('GET', '/kv/cond', { headers: { 'if-none-match': etagOf(first) } });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect(etagOf(again)).toBe(etagOf(first));
    // A list, a weak tag and * all match (weak comparison).
    for (const header of [`"1", ${etagOf(first)}`, `W/${etagOf(first)}`, '*']) {
      expect((await t.call('GET', '/kv/cond', { headers: { 'if-none-match': header } })).status).toBe(304);
    }
    expect((await t.call('GET', '/get?key=cond', { headers: { 'if-none-match': etagOf(first) } })).status).toBe(304);
    await t.call('PUT', '/kv/cond', { body: 'v2' });
    const changed = await t.call('GET', '/kv/cond', { headers: { 'if-none-match': etagOf(first) } });
    expect(changed.status).toBe(200);
    expect(changed.text).toBe('v2');
  });

  it('keeps the keep-alive connection usable after a 304', async () => {
    await t.call('PUT', '/kv/alive', { body: 'x' });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await request(t.base, 'GET', '/kv/alive', { agent });
      const notModified = await request(t.base, 'GET', '/kv/alive', { agent, headers: { 'if-none-match': etagOf(first) } });
      const after = await request(t.base, 'GET', '/kv/alive', { agent });
      expect(notModified.status).toBe(304);
      expect(after.status).toBe(200);
      expect(after.text).toBe('x');
      expect(after.socket).toBe(first.socket);
    } finally {
      agent.destroy();
    }
  });

  it('If-None-Match: * on PUT creates only: 412 when the key exists', async () => {
    const created = await t.call('PUT', '/kv/create-once', { body: 'first', headers: { 'if-none-match': '*' } });
    expect(created.status).toBe(200);
    expect(created.json).toEqual({ ok: true, version: versionOf(created) });
    const again = await t.call('PUT', '/kv/create-once', { body: 'second', headers: { 'if-none-match': '*' } });
    expect(again.status).toBe(412);
    expect(errorOf(again).code).toBe('precondition_failed');
    expect((await t.call('GET', '/kv/create-once')).text).toBe('first');
  });
});

describe('If-Match', () => {
  it('PUT stores only while the entry is at the given version, and answers the new one', async () => {
    await t.call('PUT', '/kv/cas', { body: 'a' });
    const read = await t.call('GET', '/kv/cas');
    const ok = await t.call('PUT', '/kv/cas', { body: 'b', headers: { 'if-match': etagOf(read) } });
    expect(ok.status).toBe(200);
    expect(versionOf(ok)).toBeGreaterThan(versionOf(read));
    const stale = await t.call('PUT', '/kv/cas', { body: 'c', headers: { 'if-match': etagOf(read) } });
    expect(stale.status).toBe(412);
    expect(errorOf(stale).message).toContain(`is at version ${versionOf(ok)}`);
    expect((await t.call('GET', '/kv/cas')).text).toBe('b');
  });

  it('compares strongly: a weak or foreign tag never matches; * needs the entry to exist', async () => {
    await t.call('PUT', '/kv/strong', { body: 'a' });
    const tag = etagOf(await t.call('GET', '/kv/strong'));
    for (const header of [`W/${tag}`, '"abc"']) {
      expect((await t.call('PUT', '/kv/strong', { body: 'x', headers: { 'if-match': header } })).status).toBe(412);
    }
    expect((await t.call('PUT', '/kv/strong', { body: 'y', headers: { 'if-match': `"1", ${tag}` } })).status).toBe(200);
    expect((await t.call('PUT', '/kv/strong', { body: 'z', headers: { 'if-match': '*' } })).status).toBe(200);
    expect((await t.call('PUT', '/kv/absent-star', { body: 'z', headers: { 'if-match': '*' } })).status).toBe(412);
    expect(t.server.cache.has('absent-star')).toBe(false);
    expect((await t.call('GET', '/kv/strong')).text).toBe('z');
  });

  it('DELETE deletes only at the given version; a GET with a failing If-Match is 412', async () => {
    await t.call('PUT', '/kv/del', { body: 'a' });
    const tag = etagOf(await t.call('GET', '/kv/del'));
    expect((await t.call('GET', '/kv/del', { headers: { 'if-match': '"1"' } })).status).toBe(412);
    expect((await t.call('DELETE', '/kv/del', { headers: { 'if-match': '"1"' } })).status).toBe(412);
    expect(t.server.cache.has('del')).toBe(true);
    expect((await t.call('DELETE', '/kv/del', { headers: { 'if-match': tag } })).status).toBe(200);
    expect(t.server.cache.has('del')).toBe(false);
    expect((await t.call('DELETE', '/kv/del', { headers: { 'if-match': tag } })).status).toBe(412);
    expect((await t.call('DELETE', '/kv/del', { headers: { 'if-none-match': '*' } })).status).toBe(404);
  });

  it('refuses a malformed condition (400) rather than ignoring it, and changes nothing', async () => {
    await t.call('PUT', '/kv/malformed', { body: 'a' });
    for (const header of ['5', '"5" "6"', 'W/5', '"5",,x']) {
      const reply = await t.call('PUT', '/kv/malformed', { body: 'b', headers: { 'if-match': header } });
      expect(reply.status).toBe(400);
      expect(errorOf(reply).code).toBe('invalid_precondition');
    }
    expect((await t.call('GET', '/kv/malformed', { headers: { 'if-none-match': 'nope' } })).status).toBe(400);
    expect((await t.call('GET', '/kv/malformed')).text).toBe('a');
  });
});

describe('/put ifVersion', () => {
  const put = (body: unknown) => t.call('POST', '/put', { body: JSON.stringify(body) });

  it('stores only at the expected version (0 = only if absent) and answers the new version', async () => {
    const created = await put({ key: 'pv', value: 'one', ifVersion: 0 });
    expect(created.status).toBe(200);
    const v1 = (created.json as { version: number }).version;
    expect(etagOf(created)).toBe(`"${v1}"`);
    expect((await put({ key: 'pv', value: 'again', ifVersion: 0 })).status).toBe(412);
    const updated = await put({ key: 'pv', value: 'two', ifVersion: v1 });
    expect(updated.status).toBe(200);
    const stale = await put({ key: 'pv', value: 'three', ifVersion: v1 });
    expect(stale.status).toBe(412);
    expect(errorOf(stale).code).toBe('precondition_failed');
    expect((await t.call('GET', '/get?key=pv')).json).toEqual({ key: 'pv', value: 'two' });
    for (const bad of [-1, 1.5, '3', null]) {
      const reply = await put({ key: 'pv', value: 'x', ifVersion: bad });
      expect(reply.status).toBe(400);
      expect(errorOf(reply).message).toContain('ifVersion');
    }
  });
});

it('concurrent read-modify-CAS loops on two server threads lose no update', async () => {
  const server = await startTestServer({ ...TEST_LIMITS, threads: 2 });
  const clients = 6;
  const incrementsEach = 25;
  try {
    await server.call('PUT', '/kv/counter', { body: '0' });
    let conflicts = 0;
    const worker = async (): Promise<void> => {
      // Each worker its own keep-alive connection, so the kernel spreads them over both threads.
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let done = 0; done < incrementsEach; ) {
          const read = await request(server.base, 'GET', '/kv/counter', { agent });
          const next = String(Number(read.text) + 1);
          const write = await request(server.base, 'PUT', '/kv/counter', { agent, body: next, headers: { 'if-match': etagOf(read) } });
          if (write.status === 200) done++;
          else if (write.status === 412) conflicts++;
          else throw new Error(`unexpected ${write.status} ${write.text}`);
        }
      } finally {
        agent.destroy();
      }
    };
    await Promise.all(Array.from({ length: clients }, worker));
    expect((await server.call('GET', '/kv/counter')).text).toBe(String(clients * incrementsEach));
    const stats = server.server.cache.stats();
    expect(stats.cas_hits).toBe(clients * incrementsEach);
    expect(stats.cas_badval).toBe(conflicts);
  } finally {
    await server.stop();
  }
}, 60_000);
