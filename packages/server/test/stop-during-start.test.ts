/**
 * stop() called while start() is still in progress (a SIGTERM that arrives
 * as the server boots, as `pnpm start` stopped early does). The stop waits
 * for the start, then stops everything; nothing listens afterwards, and no
 * `listening` line is logged after the shutdown began: an operator or a
 * script that waits for `listening` must not be told the server is up while
 * it is going down. Ordered by the calls themselves: stop() is called in the
 * same turn as start(), before any socket can be bound. With SNAPSHOT_PATH,
 * start() first loads the snapshot: a stop during that load is the same case.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { createServer } from '../src/index';

import { request } from './support/http';
import { capturingLogger } from './support/logs';
import { TEST_LIMITS } from './support/server';

jest.setTimeout(30_000);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'stop-during-start-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it.each([
  [1, false],
  [2, false],
  [1, true],
  [2, true],
])('THREADS=%i, snapshots %p: stop() during start() stops the server, and `listening` is never logged', async (threads, snapshots) => {
  const log = capturingLogger();
  const snapshotPath = snapshots ? path.join(dir, `cache-${threads}.snap`) : '';
  const server = createServer({ ...TEST_LIMITS, host: '127.0.0.1', port: 0, threads, snapshotPath, logger: log.logger });
  const started = server.start();
  const stopped = server.stop();
  const port = await started;
  await stopped;
  await expect(request(`http://127.0.0.1:${port}`, 'GET', '/health')).rejects.toThrow(/ECONNREFUSED/);
  const messages = log.lines.map((line) => line['msg']);
  expect(messages).not.toContain('listening');
  expect(messages).toContain('stopped');
});
