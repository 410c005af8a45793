/**
 * A server restart keeps its data: a real server (real uWS on 127.0.0.1, port
 * 0) wrapped with `withSnapshots` takes values over HTTP, stops gracefully
 * (final snapshot), and a new server on the same snapshot path serves them
 * again, /put strings and /kv bytes with their content type alike.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { createServer } from '../src/server';
import { snapshotKeeperFor, SnapshotPathError, withSnapshots } from '../src/snapshots';

import { request } from './support/http';
import { TEST_LIMITS } from './support/server';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'server-restart-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function snapshottingServer(snapshotPath: string) {
  const server = createServer({ ...TEST_LIMITS, host: '127.0.0.1', port: 0, logLevel: 'silent' });
  const keeper = snapshotKeeperFor({ snapshotPath, snapshotIntervalSeconds: 0 }, server.cache, server.logger);
  if (keeper === undefined) throw new Error('expected a keeper');
  return withSnapshots(server, keeper);
}

it('serves the same values after a graceful stop and a new start', async () => {
  const file = path.join(dir, 'cache.snap');
  const first = snapshottingServer(file);
  const base1 = `http://127.0.0.1:${await first.start()}`;
  expect(first.snapshots.status().last_load).toMatchObject({ result: 'missing' });
  expect((await request(base1, 'POST', '/put', { body: JSON.stringify({ key: 'greeting', value: 'hello, wörld' }) })).status).toBe(200);
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 255]);
  expect((await request(base1, 'PUT', '/kv/logo', { body: png, headers: { 'content-type': 'image/png' } })).status).toBe(200);
  for (let i = 0; i < 200; i++) await request(base1, 'POST', '/put', { body: JSON.stringify({ key: `k${i}`, value: `v${i}` }) });
  await first.stop();
  expect(first.snapshots.status()).toMatchObject({ saves_ok: 1, last_save: { result: 'ok', entries: 202 } });

  const second = snapshottingServer(file);
  const base2 = `http://127.0.0.1:${await second.start()}`;
  try {
    expect(second.snapshots.status().last_load).toMatchObject({ result: 'ok', entries: 202 });
    const greeting = await request(base2, 'GET', '/get?key=greeting');
    expect(greeting.status).toBe(200);
    expect(greeting.json).toMatchObject({ value: 'hello, wörld' });
    const logo = await request(base2, 'GET', '/kv/logo');
    expect(logo.status).toBe(200);
    expect(logo.headers['content-type']).toBe('image/png');
    expect(logo.body).toEqual(png);
    expect((await request(base2, 'GET', '/get?key=k199')).json).toMatchObject({ value: 'v199' });
    expect(second.cache.size).toBe(202);
  } finally {
    await second.stop();
  }
}, 60_000);

it('without SNAPSHOT_PATH there is no keeper; a directory as SNAPSHOT_PATH is a ConfigError', () => {
  const server = createServer({ ...TEST_LIMITS, host: '127.0.0.1', port: 0, logLevel: 'silent' });
  expect(snapshotKeeperFor({ snapshotPath: '', snapshotIntervalSeconds: 0 }, server.cache, server.logger)).toBeUndefined();
  expect(() => snapshotKeeperFor({ snapshotPath: dir, snapshotIntervalSeconds: 0 }, server.cache, server.logger)).toThrow(SnapshotPathError);
});
