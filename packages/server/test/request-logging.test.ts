/**
 * Per-request log lines: off by default, one JSON line per request with
 * LOG_REQUESTS on; internal errors are logged with their stack (which the
 * client never sees).
 */

import { capturingLogger } from './support/logs';
import { startTestServer } from './support/server';

it('logs no request lines by default', async () => {
  const log = capturingLogger();
  const t = await startTestServer({ logger: log.logger });
  try {
    await t.call('GET', '/health');
    await t.call('GET', '/get?key=none');
    expect(log.lines.filter((l) => l['msg'] === 'request')).toEqual([]);
    expect(log.lines.some((l) => l['msg'] === 'listening')).toBe(true);
  } finally {
    await t.stop();
  }
});

it('logs one line per request with LOG_REQUESTS on', async () => {
  const log = capturingLogger();
  const t = await startTestServer({ logger: log.logger, logRequests: true });
  try {
    await t.call('GET', '/health');
    await t.call('GET', '/get?key=none');
    const requests = log.lines.filter((l) => l['msg'] === 'request');
    expect(requests).toEqual([
      expect.objectContaining({ method: 'GET', url: '/health', status: 200 }),
      expect.objectContaining({ method: 'GET', url: '/get?key=none', status: 404 }),
    ]);
    expect(typeof requests[0]?.['ms']).toBe('number');
  } finally {
    await t.stop();
  }
});

it('logs an internal error with its stack', async () => {
  const log = capturingLogger();
  const t = await startTestServer({ logger: log.logger });
  const spy = jest.spyOn(t.server.cache, 'getEntryBytes').mockImplementation(() => {
    throw new Error('engine exploded');
  });
  try {
    expect((await t.call('GET', '/kv/x')).status).toBe(500);
    const failure = log.lines.find((l) => l['msg'] === 'request failed');
    expect(failure).toMatchObject({ level: 50, method: 'GET', url: '/kv/x' });
    expect(JSON.stringify(failure)).toContain('engine exploded');
  } finally {
    spy.mockRestore();
    await t.stop();
  }
});
