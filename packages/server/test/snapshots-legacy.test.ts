/**
 * Issue 18 (part 3): snapshots written by earlier servers hold each value
 * with the old content-type prefix inside it (byte 0 = n, bytes 1..n = the
 * content type, then the value). A server loading one rewrites those values:
 * the prefix moves into the entry's metadata, the LRU order and TTLs are
 * kept, and every entry gets a version. Both kinds of earlier file are built
 * here: format 1, byte by byte as the first engine wrote it, and format 2
 * saved by a cache without versions (the server between the two). And the
 * server's own snapshots keep versions and metadata across a restart.
 */

import { crc32 } from 'node:zlib';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { saveSnapshot, SlabLruCache } from '@slabcache/engine';

import { createServer, type SlabcacheServer } from '../src/server';

import { request } from './support/http';
import { TEST_LIMITS } from './support/server';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'server-legacy-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A value in the earlier server's layout. */
function prefixed(value: Buffer, contentType: string): Buffer {
  return Buffer.concat([Buffer.from([contentType.length]), Buffer.from(contentType, 'latin1'), value]);
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]);
/** Not a valid prefix (n = 200 > 127): kept as it is. */
const NOT_PREFIXED = Buffer.from([200, 1, 2, 3]);

/**
 * Oldest (least recent) first, as a snapshot lists them: key, the value as the
 * earlier server stored it (a /put string was the string '\u0000' + value), TTL.
 */
const LEGACY: [string, Buffer | string, number][] = [
  ['greeting', '\u0000hello, wörld', 0],
  ['logo', prefixed(PNG, 'image/png'), 0],
  ['odd', NOT_PREFIXED, 0],
  ['session', '\u0000abc', 60_000],
];

async function startOn(file: string): Promise<{ server: SlabcacheServer; base: string }> {
  const server = createServer({ ...TEST_LIMITS, host: '127.0.0.1', port: 0, logLevel: 'silent', snapshotPath: file });
  const port = await server.start();
  return { server, base: `http://127.0.0.1:${port}` };
}

async function expectMigrated(file: string): Promise<void> {
  const { server, base } = await startOn(file);
  try {
    expect(server.snapshots!.status().last_load).toMatchObject({ result: 'ok', entries: 4 });
    const cache = server.cache;
    // The values themselves, the content type as metadata, the order (most recent first) kept.
    expect([...cache.keys()]).toEqual(['session', 'odd', 'logo', 'greeting']);
    expect(cache.get('greeting')).toBe('hello, wörld');
    expect(cache.getEntryBytes('logo', { peek: true })).toMatchObject({ value: PNG, meta: 'image/png' });
    expect(cache.getBytes('odd')).toEqual(NOT_PREFIXED);
    const session = cache.getEntry('session', { peek: true })!;
    expect(session.value).toBe('abc');
    expect(session.remainingTTL).toBeGreaterThan(0);
    expect(session.remainingTTL).toBeLessThanOrEqual(60_000);
    for (const key of ['greeting', 'logo', 'odd', 'session']) expect(cache.getEntry(key, { peek: true })!.version).toBeGreaterThan(0);

    const logo = await request(base, 'GET', '/kv/logo');
    expect([logo.headers['content-type'], logo.body]).toEqual(['image/png', PNG]);
    expect((await request(base, 'GET', '/get?key=greeting')).json).toEqual({ key: 'greeting', value: 'hello, wörld' });
    // Its version works for compare-and-set like any other.
    const etag = (await request(base, 'GET', '/kv/greeting')).headers.etag as string;
    expect((await request(base, 'PUT', '/kv/greeting', { body: 'hi', headers: { 'if-match': etag } })).status).toBe(200);
  } finally {
    await server.stop();
  }
}

it('a format 1 snapshot of an earlier server loads with its values rewritten', async () => {
  const file = path.join(dir, 'v1.snap');
  writeFileSync(file, encodeVersion1File(LEGACY, Date.now()));
  await expectMigrated(file);
});

it('a format 2 snapshot saved by a cache without versions (the server before them) loads the same way', async () => {
  const file = path.join(dir, 'v2-unversioned.snap');
  const old = new SlabLruCache({ maxKeys: 100, maxBytes: 4 << 20, maxValueBytes: 1024 + 128 });
  for (const [key, value, ttl] of LEGACY) old.set(key, value, { ttl });
  await saveSnapshot(old, file);
  await expectMigrated(file);
});

it("this server's snapshots keep versions and metadata: ETags and If-Match survive a restart", async () => {
  const file = path.join(dir, 'current.snap');
  const first = await startOn(file);
  await request(first.base, 'PUT', '/kv/doc', { body: '<b>1</b>', headers: { 'content-type': 'text/html' } });
  await request(first.base, 'POST', '/put', { body: JSON.stringify({ key: 'plain', value: 'p' }) });
  const etag = (await request(first.base, 'GET', '/kv/doc')).headers.etag as string;
  await first.server.stop();

  const second = await startOn(file);
  try {
    const doc = await request(second.base, 'GET', '/kv/doc');
    expect([doc.headers.etag, doc.headers['content-type'], doc.text]).toEqual([etag, 'text/html', '<b>1</b>']);
    expect((await request(second.base, 'GET', '/kv/doc', { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect(second.server.cache.get('plain')).toBe('p');
    // The version counter goes on from where it was: a new write gets a newer version, never a reused one.
    const cas = await request(second.base, 'PUT', '/kv/doc', { body: '<b>2</b>', headers: { 'if-match': etag } });
    expect(cas.status).toBe(200);
    expect(Number(JSON.parse(cas.text).version)).toBeGreaterThan(Number(etag.replace(/"/g, '')));
    expect((await request(second.base, 'PUT', '/kv/doc', { body: '<b>3</b>', headers: { 'if-match': etag } })).status).toBe(412);
  } finally {
    await second.server.stop();
  }
});

/** A version 1 snapshot, byte by byte as the first engine wrote it (engine src/snapshot/format.ts). */
function encodeVersion1File(records: [string, Buffer | string, number][], now: number): Buffer {
  const options = Buffer.from(JSON.stringify({ maxKeys: 100, maxBytes: 1 << 20, pageBytes: 16384, maxValueBytes: 1152 }));
  const header = Buffer.alloc(28 + options.length + 4);
  header.write('SLABSNAP', 0, 'latin1');
  header.writeUInt32LE(1, 8);
  header.writeUInt32LE(header.length, 12);
  header.writeDoubleLE(now, 16);
  header.writeUInt32LE(options.length, 24);
  options.copy(header, 28);
  header.writeUInt32LE(crc32(header.subarray(0, header.length - 4)), header.length - 4);
  const payload = Buffer.concat(
    records.map(([key, stored, ttl]) => {
      const value = Buffer.from(stored);
      const expiresAt = ttl === 0 ? 0 : now + ttl;
      const keyBytes = Buffer.from(key, 'utf8');
      const head = Buffer.alloc(7 + (expiresAt ? 8 : 0));
      head[0] = expiresAt ? 1 : 0;
      head.writeUInt16LE(keyBytes.length, 1);
      head.writeUInt32LE(value.length, 3);
      if (expiresAt) head.writeDoubleLE(expiresAt, 7);
      return Buffer.concat([head, keyBytes, value]);
    }),
  );
  const block = Buffer.alloc(16 + payload.length);
  block.writeUInt32LE(0x4b4c4253, 0);
  block.writeUInt32LE(payload.length, 4);
  block.writeUInt32LE(records.length, 8);
  payload.copy(block, 16);
  block.writeUInt32LE(crc32(payload, crc32(block.subarray(0, 12))), 12);
  const trailer = Buffer.alloc(56);
  trailer.writeUInt32LE(0x444e4553, 0);
  trailer.writeUInt32LE(56, 4);
  trailer.writeDoubleLE(records.length, 8);
  trailer.writeDoubleLE(1, 16);
  trailer.writeDoubleLE(payload.length, 24);
  trailer.writeDoubleLE(now, 32);
  trailer.writeUInt32LE(Math.max(...records.map((r) => Buffer.byteLength(r[0]))), 40);
  trailer.writeUInt32LE(Math.max(...records.map((r) => Buffer.byteLength(r[1]))), 44);
  trailer.writeUInt32LE(crc32(block.subarray(0, 16)), 48);
  trailer.writeUInt32LE(crc32(trailer.subarray(0, 52)), 52);
  return Buffer.concat([header, block, trailer]);
}
