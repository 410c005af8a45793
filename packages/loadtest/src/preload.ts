/**
 * The preload tool: fills a server with keys `key-<from>` … `key-<to - 1>`
 * through its HTTP API (POST /put, JSON), with wrk's keep-alive connections in
 * parallel (wrk/preload.lua splits the range between wrk threads), then checks
 * a sample of the keys with GET.
 *
 * Going through the API (not a back door) is the point: it is what a user's
 * warm-up costs, and the fill rate is itself a number in the report.
 */

import { httpGet } from './http-probe.js';
import { keyName } from './keys.js';
import type { Progress } from './progress.js';
import { failuresOf, runWrk, type WrkResult } from './wrk.js';

export interface PreloadOptions {
  url: string;
  from?: number;
  to: number;
  valueBytes: number;
  threads?: number;
  connections?: number;
  /** Upper bound on the whole fill. Default: 60 s + 0.5 ms per key (a floor of 2,000 sets/s). */
  timeoutSeconds?: number;
  /** How many keys to read back afterwards (spread over the range). Default 20. */
  verifySample?: number;
  /** Set when the range is larger than the cache: evicted keys then read back as 404. */
  expectEvictions?: boolean;
  /** Aborting ends the fill at once (e.g. when the server has died). */
  signal?: AbortSignal;
  /** Shows the fill's progress (keys written, keys/s, ETA) under this label; the caller prints the result. */
  progress?: { display: Progress; label: string };
}

export interface PreloadResult {
  from: number;
  to: number;
  keys: number;
  seconds: number;
  setsPerSecond: number;
  failures: number;
  verified: { sampled: number; found: number };
  wrk: WrkResult;
}

function sampleIndexes(from: number, to: number, count: number): number[] {
  const span = to - from;
  if (span <= 0) return [];
  const n = Math.min(count, span);
  const out = new Set<number>([from, to - 1]);
  for (let i = 0; out.size < n && i < n * 4; i++) out.add(from + Math.floor(((i + 0.5) / n) * span) % span);
  return [...out];
}

export async function preload(options: PreloadOptions): Promise<PreloadResult> {
  const from = options.from ?? 0;
  const keys = options.to - from;
  if (keys <= 0) throw new Error(`nothing to preload: from ${from} to ${options.to}`);
  const threads = Math.max(1, Math.min(options.threads ?? 2, keys));
  const connections = Math.max(threads, Math.min(options.connections ?? 50, keys));
  const timeoutSeconds = options.timeoutSeconds ?? Math.ceil(60 + keys / 2000);

  const task = options.progress?.display.task(options.progress.label, { unit: 'keys', total: keys, summary: false });
  const started = process.hrtime.bigint();
  let wrk: WrkResult;
  try {
    wrk = await runWrk({
      url: options.url,
      mode: 'preload',
      threads,
      connections,
      durationSeconds: timeoutSeconds,
      scriptArgs: { from, to: options.to, value: options.valueBytes },
      ...(options.signal ? { signal: options.signal } : {}),
      ...(task ? { onProgress: (written: number) => task.update(written) } : {}),
    });
  } catch (error) {
    task?.end('stopped early');
    throw error;
  }
  task?.end();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (wrk.status2xx + wrk.status404 + wrk.statusOther < keys) {
    throw new Error(`preload stopped after ${wrk.requests} of ${keys} keys (bound ${timeoutSeconds} s)`);
  }

  const failures = failuresOf(wrk);
  if (failures > 0) {
    throw new Error(
      `preload: ${failures} of ${keys} PUTs failed (${wrk.statusOther} non-2xx answers, socket errors ${JSON.stringify(wrk.socketErrors)})`,
    );
  }

  const sample = sampleIndexes(from, options.to, options.verifySample ?? 20);
  let found = 0;
  for (const index of sample) {
    const answer = await httpGet(`${options.url}/get?key=${encodeURIComponent(keyName(index))}`);
    if (answer.status === 200) found += 1;
    else if (!(answer.status === 404 && options.expectEvictions)) {
      throw new Error(`preload check: GET ${keyName(index)} answered ${answer.status} ${answer.body.slice(0, 200)}`);
    }
  }

  return {
    from,
    to: options.to,
    keys,
    seconds,
    setsPerSecond: keys / seconds,
    failures,
    verified: { sampled: sample.length, found },
    wrk,
  };
}
