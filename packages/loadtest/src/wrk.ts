/**
 * Runs wrk (Debian's `wrk`, an HTTP/1.1 keep-alive load generator written in
 * C) with one of the scripts in ../wrk and returns its numbers as data.
 *
 * The scripts print one `WRK_JSON {...}` line from their done() hook; this
 * module parses it. Latencies are microseconds as wrk measures them (from
 * writing a request to reading its response, per connection, no correction for
 * coordinated omission). Non-2xx answers are split into 404 (a miss: expected
 * when the pool is larger than the cache) and everything else (a failure).
 *
 * Preload mode ends when every wrk thread has written its share of keys: wrk's
 * main thread would otherwise sleep for the whole -d duration, so the scripts
 * print WRK_THREAD_DONE and this module sends wrk SIGINT, after which wrk still
 * prints its summary. Every run is bounded: -d, plus a SIGKILL 15 s past it.
 */

import { spawn } from 'node:child_process';

import { paths } from './paths.js';

export type WrkMode = 'get' | 'put' | 'mix' | 'preload' | 'kvget' | 'mget';

export interface WrkOptions {
  url: string;
  mode: WrkMode;
  threads: number;
  connections: number;
  /** Length of a timed run; for preload, the upper bound on the fill. */
  durationSeconds: number;
  /** A request slower than this counts as a timeout (wrk --timeout). Default 10 s. */
  requestTimeoutSeconds?: number;
  /** name=value arguments for the script (pool, value, prefix, putpct, from, to). */
  scriptArgs?: Record<string, string | number>;
  /** Aborting ends wrk at once and rejects (e.g. when the server under load has died). */
  signal?: AbortSignal;
  /** Preload mode: called with the responses so far (all threads), about once a second. */
  onProgress?: (responses: number) => void;
  /** Run wrk on these CPUs only (`taskset -c`, e.g. "1"), so it does not share the server's cores. */
  cpus?: string;
}

export interface LatencyMicros {
  min: number;
  mean: number;
  stdev: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export interface WrkResult {
  mode: WrkMode;
  durationSeconds: number;
  requests: number;
  requestsPerSecond: number;
  bytesRead: number;
  status2xx: number;
  /** Misses: GETs of keys the server does not hold. */
  status404: number;
  /** Every other non-2xx answer: failures. */
  statusOther: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  latencyUs: LatencyMicros;
}

interface RawWrkJson {
  mode: WrkMode;
  duration_us: number;
  requests: number;
  bytes: number;
  status_2xx: number;
  status_404: number;
  status_other: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latency_us: LatencyMicros;
}

const JSON_MARKER = 'WRK_JSON ';
const THREAD_DONE_MARKER = 'WRK_THREAD_DONE ';
const PROGRESS_MARKER = 'WRK_PROGRESS ';
const KILL_AFTER_DURATION_MS = 15_000;

export function parseWrkOutput(stdout: string): WrkResult {
  const line = stdout.split('\n').find((l) => l.startsWith(JSON_MARKER));
  if (!line) throw new Error(`wrk printed no ${JSON_MARKER.trim()} line:\n${stdout}`);
  const raw = JSON.parse(line.slice(JSON_MARKER.length)) as RawWrkJson;
  const durationSeconds = raw.duration_us / 1e6;
  return {
    mode: raw.mode,
    durationSeconds,
    requests: raw.requests,
    requestsPerSecond: durationSeconds > 0 ? raw.requests / durationSeconds : 0,
    bytesRead: raw.bytes,
    status2xx: raw.status_2xx,
    status404: raw.status_404,
    statusOther: raw.status_other,
    socketErrors: {
      connect: raw.errors.connect,
      read: raw.errors.read,
      write: raw.errors.write,
      timeout: raw.errors.timeout,
    },
    latencyUs: raw.latency_us,
  };
}

/** Socket errors plus non-2xx answers other than 404: anything here means the run failed. */
export function failuresOf(result: WrkResult): number {
  const e = result.socketErrors;
  return result.statusOther + e.connect + e.read + e.write + e.timeout;
}

export function wrkCommandLine(options: WrkOptions): string[] {
  const scriptArgs = { ...options.scriptArgs };
  if (options.mode === 'preload') scriptArgs.threads = options.threads;
  return [
    `-t${options.threads}`,
    `-c${options.connections}`,
    `-d${options.durationSeconds}s`,
    `--timeout`,
    `${options.requestTimeoutSeconds ?? 10}s`,
    '-s',
    paths.wrkScript(options.mode),
    options.url,
    '--',
    ...Object.entries(scriptArgs).map(([name, value]) => `${name}=${value}`),
  ];
}

export function runWrk(options: WrkOptions): Promise<WrkResult> {
  if (options.connections < options.threads) throw new Error('wrk needs at least one connection per thread');
  return new Promise((resolve, reject) => {
    const [command, args] = options.cpus === undefined ? ['wrk', wrkCommandLine(options)] : ['taskset', ['-c', options.cpus, 'wrk', ...wrkCommandLine(options)]];
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    const progress = progressReader(options.onProgress);
    child.stdout.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      stdout += text;
      progress(text);
      if (options.mode === 'preload' && !interrupted) {
        // Counted over everything read so far: a marker can straddle two chunks.
        const threadsDone = stdout.split(THREAD_DONE_MARKER).length - 1;
        if (threadsDone >= options.threads) {
          interrupted = true;
          child.kill('SIGINT');
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), options.durationSeconds * 1000 + KILL_AFTER_DURATION_MS);
    const onAbort = () => child.kill('SIGKILL');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => {
      clearTimeout(killer);
      reject(new Error(`could not run wrk (is it installed? apt-get install -y wrk): ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      options.signal?.removeEventListener('abort', onAbort);
      if (options.signal?.aborted) {
        reject(new Error(`wrk stopped: ${String(options.signal.reason)}`));
        return;
      }
      if (signal === 'SIGKILL') {
        reject(new Error(`wrk did not finish within its bound and was killed\n${stdout}${stderr}`));
        return;
      }
      try {
        const result = parseWrkOutput(stdout);
        if (code !== 0 && !interrupted) throw new Error(`wrk exited with ${code}`);
        resolve(result);
      } catch (error) {
        reject(new Error(`${(error as Error).message}\n${stderr}`));
      }
    });
  });
}

/**
 * Turns the WRK_PROGRESS lines of a stream (each thread's running count of
 * responses) into calls of `onProgress` with their sum. Fed chunk by chunk: a
 * line can be split across two chunks.
 */
export function progressReader(onProgress: ((responses: number) => void) | undefined): (chunk: string) => void {
  if (!onProgress) return () => undefined;
  const byThread = new Map<string, number>();
  let partial = '';
  return (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    let changed = false;
    for (const line of lines) {
      if (!line.startsWith(PROGRESS_MARKER)) continue;
      const [thread, responses] = line.slice(PROGRESS_MARKER.length).trim().split(' ');
      const count = Number(responses);
      if (thread === undefined || !Number.isFinite(count)) continue;
      byThread.set(thread, count);
      changed = true;
    }
    if (changed) onProgress([...byThread.values()].reduce((a, b) => a + b, 0));
  };
}
