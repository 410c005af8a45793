/**
 * Starts and stops the HTTP servers under test as child processes: ours (the
 * built CLI, packages/server/dist/cli.js) and the baseline peer
 * (baseline/server.mjs), each on 127.0.0.1 in its own port range.
 *
 * Both run under plain `node` with the same flags, and both can carry the GC
 * probe (src/gc-probe.mjs, loaded with --import) so the drivers can report GC
 * time and pauses for either without touching the servers' code. A server is
 * stopped by its PID: SIGTERM, then SIGKILL if it has not exited after a grace
 * period. Its stdout/stderr are kept (last 64 KiB) for error messages.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

import { waitForHttp } from './http-probe.js';
import { paths } from './paths.js';
import { findFreePort, PORT_RANGES } from './ports.js';

export type ServerKind = 'ours' | 'baseline';

export const SERVER_LABELS: Record<ServerKind, string> = {
  ours: 'slabcache (hyper-express + SAB engine)',
  baseline: 'baseline (Express 4 + lru-cache 11)',
};

export interface ServerLimits {
  maxKeys?: number;
  maxBytes?: number;
}

export interface StartOptions {
  /** Fixed port; default: a free port in the kind's range. */
  port?: number;
  limits?: ServerLimits;
  /** Load the GC probe into the server (default true). */
  gcProbe?: boolean;
  /** Extra environment for the server process. */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

export interface GcSnapshot {
  /** When the snapshot was written; for several threads, the oldest of their snapshots. */
  writtenAtMs: number;
  /** How many threads' probes this snapshot adds up (1 without worker threads). */
  threads: number;
  totals: { count: number; totalMs: number; maxMs: number; byKind: Record<string, { count: number; totalMs: number }> };
  longPauses: { atMs: number; ms: number; kind: string }[];
  memory: { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
}

export interface RunningServer {
  readonly kind: ServerKind;
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  /** Latest GC probe snapshot (all threads added up), or undefined without the probe or before its first write. */
  readGc(): GcSnapshot | undefined;
  /** The server's recent output, for error messages. */
  output(): string;
  isAlive(): boolean;
  stop(): Promise<void>;
}

const OUTPUT_KEEP_BYTES = 64 * 1024;
const STOP_GRACE_MS = 8000;

function commandFor(kind: ServerKind): string {
  const script = kind === 'ours' ? paths.ourServerCli() : paths.baselineServer();
  if (!existsSync(script)) {
    throw new Error(
      kind === 'ours' ? `${script} is missing: run \`pnpm run build\` at the repository root first` : `${script} is missing`,
    );
  }
  return script;
}

/**
 * Adds up the probe snapshots of every thread of one server (gc.json for the
 * main thread, gc.json.thread-N for workers). GC counts, times and pauses are
 * per isolate and add up; RSS is per process; V8 heap in use is summed over
 * isolates; external and ArrayBuffer bytes are the main thread's, because a
 * SharedArrayBuffer would be counted again in every thread that maps it.
 */
export function readGcSnapshots(probeDir: string): GcSnapshot | undefined {
  let names: string[];
  try {
    names = readdirSync(probeDir).filter((name) => name === 'gc.json' || name.startsWith('gc.json.thread-'));
  } catch {
    return undefined;
  }
  const snapshots: (GcSnapshot & { threadId?: number })[] = [];
  for (const name of names) {
    try {
      snapshots.push(JSON.parse(readFileSync(join(probeDir, name), 'utf8')) as GcSnapshot);
    } catch {
      // Being rewritten right now: the next read will have it.
    }
  }
  const main = snapshots.find((s) => !s.threadId);
  if (!main) return undefined;
  const byKind: GcSnapshot['totals']['byKind'] = {};
  for (const s of snapshots) {
    for (const [kind, k] of Object.entries(s.totals.byKind)) {
      const sum = (byKind[kind] ??= { count: 0, totalMs: 0 });
      sum.count += k.count;
      sum.totalMs += k.totalMs;
    }
  }
  return {
    writtenAtMs: Math.min(...snapshots.map((s) => s.writtenAtMs)),
    threads: snapshots.length,
    totals: {
      count: snapshots.reduce((n, s) => n + s.totals.count, 0),
      totalMs: snapshots.reduce((n, s) => n + s.totals.totalMs, 0),
      maxMs: Math.max(...snapshots.map((s) => s.totals.maxMs)),
      byKind,
    },
    longPauses: snapshots.flatMap((s) => s.longPauses),
    memory: { ...main.memory, heapUsed: snapshots.reduce((n, s) => n + s.memory.heapUsed, 0) },
  };
}

export async function startServer(kind: ServerKind, options: StartOptions = {}): Promise<RunningServer> {
  const script = commandFor(kind);
  const port = options.port ?? (await findFreePort(PORT_RANGES[kind]));
  const probeDir = mkdtempSync(join(tmpdir(), `loadtest-${kind}-`));
  const gcFile = join(probeDir, 'gc.json');
  const nodeArgs = options.gcProbe === false ? [] : ['--import', paths.gcProbe()];

  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    LOADTEST_GC_FILE: gcFile,
    ...(options.limits?.maxKeys !== undefined ? { MAX_KEYS: String(options.limits.maxKeys) } : {}),
    ...(options.limits?.maxBytes !== undefined ? { MAX_BYTES: String(options.limits.maxBytes) } : {}),
    ...options.env,
  };
  // NODE_OPTIONS from the caller (e.g. tsx's loader) must not leak into the server.
  delete env.NODE_OPTIONS;

  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, script], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEEP_BYTES);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const exitPromise = once(child, 'exit').then(() => {
    exited = true;
  });

  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${kind} server`);
  const url = `http://127.0.0.1:${port}`;

  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exitPromise;
      clearTimeout(timer);
    }
    rmSync(probeDir, { recursive: true, force: true });
  };

  try {
    await waitForHttp(`${url}/get?key=__loadtest_ready__`, options.readyTimeoutMs ?? 30_000, () => !exited);
  } catch (error) {
    await stop();
    throw new Error(`${kind} server did not start: ${(error as Error).message}\n--- its output ---\n${output}`);
  }

  return {
    kind,
    pid,
    port,
    url,
    readGc: () => readGcSnapshots(probeDir),
    output: () => output,
    isAlive: () => !exited,
    stop,
  };
}
