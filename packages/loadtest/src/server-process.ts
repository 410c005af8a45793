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
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
  writtenAtMs: number;
  totals: { count: number; totalMs: number; maxMs: number; byKind: Record<string, { count: number; totalMs: number }> };
  longPauses: { atMs: number; ms: number; kind: string }[];
  memory: { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
}

export interface RunningServer {
  readonly kind: ServerKind;
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  /** Latest GC probe snapshot, or undefined without the probe or before its first write. */
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
    readGc: () => {
      try {
        return JSON.parse(readFileSync(gcFile, 'utf8')) as GcSnapshot;
      } catch {
        return undefined;
      }
    },
    output: () => output,
    isAlive: () => !exited,
    stop,
  };
}
