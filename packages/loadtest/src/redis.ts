/**
 * The native reference point: redis-server (Debian's) measured with its own
 * redis-benchmark, GET and SET, at the same value size, the same number of
 * clients and the same key count as the HTTP comparison.
 *
 * Redis runs on 127.0.0.1 in its own port range with persistence off and an
 * LRU memory cap equal to our byte budget. It is filled with exactly N keys in
 * redis-benchmark's own key format (`key:` + 12 digits, what `-r N` draws
 * from), streamed through `redis-cli --pipe`, so that every benchmark GET hits
 * and every SET overwrites, as in the HTTP runs. Pipelining stays at 1 (one
 * request in flight per client), like wrk and Locust.
 *
 * This is RESP over TCP, not HTTP: the point is where a C cache stands on the
 * same machine, not a like-for-like protocol comparison.
 */

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

import { makeValue } from './keys.js';
import { findFreePort, PORT_RANGES } from './ports.js';
import type { Progress, ProgressTask } from './progress.js';
import { readProcessMemory } from './proc-status.js';
import type { RedisResult, RedisTest } from './results.js';

export interface RedisBenchOptions {
  sizes: number[];
  valueBytes: number;
  clients: number;
  /** Requests per test (GET, SET) per size. */
  requests: number;
  maxBytes: number;
}

export interface RunningRedis {
  pid: number;
  port: number;
  cli(args: string[]): string;
  stop(): Promise<void>;
}

const BENCH_KEY_DIGITS = 12;

export function redisBenchKey(index: number): string {
  return `key:${String(index).padStart(BENCH_KEY_DIGITS, '0')}`;
}

export async function startRedis(maxBytes: number): Promise<RunningRedis> {
  const port = await findFreePort(PORT_RANGES.redis);
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--save', '',
      '--appendonly', 'no',
      '--maxmemory', String(maxBytes),
      '--maxmemory-policy', 'allkeys-lru',
      '--daemonize', 'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-16384)));
  child.stderr?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-16384)));
  let exited = false;
  const exitPromise = once(child, 'exit').then(() => (exited = true));
  child.on('error', () => (exited = true));
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start redis-server (apt-get install -y redis-server)');

  const cli = (args: string[]): string =>
    execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
    await exitPromise;
    clearTimeout(timer);
  };

  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exited) throw new Error(`redis-server exited:\n${output}`);
    try {
      if (cli(['ping']).trim() === 'PONG') break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not answer PING:\n${output}`);
    }
    await sleep(100);
  }
  return { pid, port, cli, stop };
}

/**
 * Streams SET commands for keys [from, to) through `redis-cli --pipe`.
 * `task` counts the keys handed to redis-cli (it pipes them on as it reads).
 */
export async function fillRedis(redis: RunningRedis, from: number, to: number, valueBytes: number, task?: ProgressTask): Promise<void> {
  const pipe = spawn('redis-cli', ['-h', '127.0.0.1', '-p', String(redis.port), '--pipe'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  pipe.stdout.on('data', (c: Buffer) => (output += c.toString()));
  pipe.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const closed = once(pipe, 'close');
  const killer = setTimeout(() => pipe.kill('SIGKILL'), 120_000 + (to - from) / 10);
  // If redis-cli dies mid-fill, writing to it fails (EPIPE): that fails the fill with redis-cli's
  // own output below, instead of crashing the process with an unhandled stream error.
  let writeError: Error | undefined;
  pipe.stdin.on('error', (error) => (writeError ??= error));
  const value = makeValue(valueBytes);
  const valueHeader = `$${Buffer.byteLength(value)}\r\n`;
  const BATCH = 10_000;
  for (let start = from; start < to && writeError === undefined; start += BATCH) {
    let chunk = '';
    const end = Math.min(to, start + BATCH);
    for (let i = start; i < end; i++) {
      const key = redisBenchKey(i);
      chunk += `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n${valueHeader}${value}\r\n`;
    }
    if (!pipe.stdin.write(chunk)) await Promise.race([once(pipe.stdin, 'drain').catch(() => undefined), closed]);
    task?.update(end - from);
  }
  pipe.stdin.end();
  const [code] = (await closed) as [number | null];
  clearTimeout(killer);
  // redis-cli --pipe ends with "errors: 0, replies: N".
  const match = /errors:\s*(\d+),\s*replies:\s*(\d+)/.exec(output);
  if (code !== 0 || writeError || !match || match[1] !== '0' || Number(match[2]) !== to - from) {
    const cut = writeError ? ` (writing to redis-cli failed: ${writeError.message})` : '';
    throw new Error(`redis fill ${from}..${to} failed (exit ${code})${cut}:\n${output}`);
  }
}

export function parseRedisBenchmarkCsv(csv: string): RedisTest[] {
  const lines = csv.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('"'));
  const header = lines[0]?.split(',').map((h) => h.replace(/"/g, ''));
  if (!header || header[0] !== 'test') throw new Error(`unexpected redis-benchmark output:\n${csv}`);
  return lines.slice(1).map((line) => {
    const cells = line.split(',').map((c) => c.replace(/"/g, ''));
    const at = (name: string): number => {
      const i = header.indexOf(name);
      if (i < 0) throw new Error(`redis-benchmark CSV has no ${name} column`);
      return Number(cells[i]);
    };
    return {
      test: cells[0] ?? '?',
      requestsPerSecond: at('rps'),
      latencyMs: {
        avg: at('avg_latency_ms'),
        min: at('min_latency_ms'),
        p50: at('p50_latency_ms'),
        p95: at('p95_latency_ms'),
        p99: at('p99_latency_ms'),
        max: at('max_latency_ms'),
      },
    };
  });
}

function runRedisBenchmark(port: number, keys: number, options: RedisBenchOptions): Promise<RedisTest[]> {
  const args = [
    '-h', '127.0.0.1', '-p', String(port),
    '-c', String(options.clients),
    '-n', String(options.requests),
    '-r', String(keys),
    '-d', String(options.valueBytes),
    '-P', '1',
    '-t', 'set,get',
    '--csv',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('redis-benchmark', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    // Bounded: even at 5k requests/s per test this is generous.
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000 + (2 * options.requests) / 5);
    child.on('error', (error) => reject(new Error(`could not run redis-benchmark: ${error.message}`)));
    child.on('close', (code) => {
      clearTimeout(killer);
      if (code !== 0) return reject(new Error(`redis-benchmark exited with ${code}:\n${stdout}${stderr}`));
      try {
        resolve(parseRedisBenchmarkCsv(stdout));
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}

function infoField(info: string, name: string): number {
  const match = new RegExp(`^${name}:(\\d+)`, 'm').exec(info);
  return match?.[1] ? Number(match[1]) : NaN;
}

/** `progress`, if given, shows each fill; `log` should then print through progress.log. */
export async function runRedisReference(options: RedisBenchOptions, log: (line: string) => void, progress?: Progress): Promise<RedisResult[]> {
  const redis = await startRedis(options.maxBytes);
  try {
    const version = /redis_version:(\S+)/.exec(redis.cli(['info', 'server']))?.[1] ?? 'unknown';
    const idleMemory = readProcessMemory(redis.pid);
    const results: RedisResult[] = [];
    let filled = 0;
    for (const keys of [...options.sizes].sort((a, b) => a - b)) {
      const task = progress?.task(`redis fill to ${keys.toLocaleString('en-US')}`, { unit: 'keys', total: keys - filled });
      try {
        await fillRedis(redis, filled, keys, options.valueBytes, task);
      } catch (error) {
        task?.end('stopped early');
        throw error;
      }
      task?.end();
      filled = keys;
      const dbsize = Number(redis.cli(['dbsize']).trim());
      if (dbsize !== keys) throw new Error(`redis holds ${dbsize} keys after filling ${keys}`);
      const info = redis.cli(['info', 'memory']);
      const proc = readProcessMemory(redis.pid);
      const tests = await runRedisBenchmark(redis.port, keys, options);
      for (const t of tests) {
        log(`redis N=${keys} ${t.test.padEnd(3)} ${Math.round(t.requestsPerSecond)} req/s  p50 ${t.latencyMs.p50} ms  p99 ${t.latencyMs.p99} ms`);
      }
      results.push({
        version,
        keys,
        valueBytes: options.valueBytes,
        clients: options.clients,
        pipeline: 1,
        requestsPerTest: options.requests,
        idleMemory,
        memory: { rssKiB: proc.rssKiB, hwmKiB: proc.hwmKiB, usedMemoryBytes: infoField(info, 'used_memory') },
        tests,
      });
    }
    return results;
  } finally {
    await redis.stop();
  }
}
