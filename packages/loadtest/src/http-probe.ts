/**
 * Small HTTP helpers for the drivers (not for load: load comes from wrk and
 * Locust). `waitForHttp` polls until a server answers anything at all, which is
 * how the drivers know a freshly spawned server is ready: the baseline has no
 * /health route (the seed had none), so readiness is "answers GET /get".
 */

import { setTimeout as sleep } from 'node:timers/promises';

export interface HttpAnswer {
  status: number;
  body: string;
}

export async function httpGet(url: string, timeoutMs = 5000): Promise<HttpAnswer> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: response.status, body: await response.text() };
}

export async function httpPutJson(url: string, body: unknown, timeoutMs = 5000): Promise<HttpAnswer> {
  const response = await fetch(url, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: response.status, body: await response.text() };
}

/**
 * Resolves once `url` answers with any HTTP status; rejects after `timeoutMs`,
 * or as soon as `stillAlive()` says the server process has gone.
 */
export async function waitForHttp(url: string, timeoutMs: number, stillAlive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (!stillAlive()) throw new Error(`server exited before answering ${url}`);
    try {
      await httpGet(url, 1000);
      return;
    } catch (error) {
      lastError = error;
    }
    await sleep(100);
  }
  throw new Error(`no answer from ${url} within ${timeoutMs} ms: ${String(lastError)}`);
}
