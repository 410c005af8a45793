/**
 * The router: Debian's HAProxy (2.6 or later), run in master-worker mode in
 * the foreground (`-W -db`) with deploy/haproxy/slabcache.cfg and a nodes file.
 *
 * Nothing is installed here: HAProxy must already be there (`apt-get install
 * -y haproxy`), found through SLABCACHE_HAPROXY, PATH, /usr/sbin or
 * /usr/local/sbin. The master process is the PID the cluster owns:
 *   - reload (new nodes file): check the files with `haproxy -c`, then SIGUSR2
 *     to the master, which starts a new worker with the new files and hands it
 *     the listening socket (no refused connections), then ends the old one;
 *   - stop: SIGUSR1 (soft stop: the worker finishes what is in flight, at most
 *     `hard-stop-after` = 5 s), then SIGKILL to the process group if needed.
 */

import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

import { spawnManaged, type ManagedChild } from './child.js';
import { paths } from './paths.js';
import { serverStats, type ServerStat } from './runtime-api.js';

const execFileAsync = promisify(execFile);

/** Oldest HAProxy this configuration is written for: `balance hash <expr>` and named defaults (`from`). */
export const MIN_HAPROXY_VERSION = [2, 6] as const;
const STOP_GRACE_MS = 10_000;
const READY_TIMEOUT_MS = 15_000;
const POLL_MS = 25;

export interface HaproxyBinary {
  readonly path: string;
  /** e.g. "2.6.12-1+deb12u4" */
  readonly version: string;
}

export function findHaproxy(explicit = process.env['SLABCACHE_HAPROXY']): HaproxyBinary {
  const candidates = explicit
    ? [explicit]
    : [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/usr/local/sbin'].map((dir) => join(dir, 'haproxy'));
  const path = candidates.find((candidate) => existsSync(candidate));
  if (!path) {
    throw new Error(
      explicit
        ? `SLABCACHE_HAPROXY=${explicit} does not exist`
        : 'HAProxy is not installed (looked in PATH, /usr/sbin and /usr/local/sbin): apt-get install -y haproxy (see docs/cluster.md)',
    );
  }
  const banner = execFileSync(path, ['-v'], { encoding: 'utf8' });
  const match = /HAProxy version (\d+)\.(\d+)(\S*)/.exec(banner);
  if (!match) throw new Error(`${path} -v printed no HAProxy version:\n${banner}`);
  const [major, minor] = [Number(match[1]), Number(match[2])];
  const [needMajor, needMinor] = MIN_HAPROXY_VERSION;
  if (major < needMajor || (major === needMajor && minor < needMinor)) {
    throw new Error(`${path} is HAProxy ${major}.${minor}; the router configuration needs ${needMajor}.${needMinor} or later`);
  }
  return { path, version: `${match[1]}.${match[2]}${match[3]}` };
}

export interface RouterOptions {
  readonly haproxy: HaproxyBinary;
  readonly host: string;
  readonly port: number;
  /** The per-deployment nodes file (nodes-config.ts), loaded after the shared configuration. */
  readonly nodesConfig: string;
  readonly adminSocket: string;
  readonly onLine?: (line: string) => void;
}

export interface Router {
  readonly child: ManagedChild;
  readonly url: string;
  readonly haproxy: HaproxyBinary;
  /** The files HAProxy loads, in order. */
  readonly configFiles: readonly string[];
  readonly adminSocket: string;
  /** What the health checks say about each node now. */
  serverStats(): Promise<ServerStat[]>;
  /** Waits (polling the runtime API) until `done` holds for the router's view of the nodes. */
  waitFor(what: string, done: (stats: ServerStat[]) => boolean, timeoutMs?: number): Promise<ServerStat[]>;
  /** Re-reads the configuration files; resolves when the new worker's view satisfies `done`. */
  reload(done: (stats: ServerStat[]) => boolean): Promise<void>;
  /** PIDs of the master and its workers (for CPU accounting). */
  pids(): number[];
  stop(): Promise<void>;
}

export async function checkConfig(haproxy: HaproxyBinary, files: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  try {
    await execFileAsync(haproxy.path, ['-c', '-q', ...files.flatMap((file) => ['-f', file])], { env });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`HAProxy refused the configuration (${files.join(', ')}):\n${e.stderr || e.message}`);
  }
}

export async function startRouter(options: RouterOptions): Promise<Router> {
  const configFiles = [paths.sharedRouterConfig(), options.nodesConfig];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SLABCACHE_BIND: `${options.host}:${options.port}`,
    SLABCACHE_ADMIN_SOCKET: options.adminSocket,
  };
  await checkConfig(options.haproxy, configFiles, env);
  const child = spawnManaged('router', options.haproxy.path, ['-W', '-db', ...configFiles.flatMap((file) => ['-f', file])], {
    env,
    ...(options.onLine ? { onLine: options.onLine } : {}),
  });

  const stats = () => serverStats(options.adminSocket);
  const waitFor = async (what: string, done: (stats: ServerStat[]) => boolean, timeoutMs = READY_TIMEOUT_MS): Promise<ServerStat[]> => {
    const deadline = Date.now() + timeoutMs;
    let last: ServerStat[] | string = 'no answer yet';
    while (Date.now() < deadline) {
      if (!child.isAlive()) throw new Error(`HAProxy exited while waiting for ${what}:\n${child.output()}`);
      try {
        const now = await stats();
        if (done(now)) return now;
        last = now;
      } catch (error) {
        last = (error as Error).message;
      }
      await sleep(POLL_MS);
    }
    throw new Error(`HAProxy: no ${what} within ${timeoutMs} ms; last seen: ${JSON.stringify(last)}\n${child.output()}`);
  };

  const router: Router = {
    child,
    url: `http://${options.host}:${options.port}`,
    haproxy: options.haproxy,
    configFiles,
    adminSocket: options.adminSocket,
    serverStats: stats,
    waitFor,
    reload: async (done) => {
      await checkConfig(options.haproxy, configFiles, env);
      child.signal('SIGUSR2');
      await waitFor('reloaded configuration', done);
    },
    pids: () => [child.pid, ...childPids(child.pid)],
    stop: async () => {
      await child.stop('SIGUSR1', STOP_GRACE_MS);
    },
  };
  try {
    await waitFor('runtime API', () => true);
  } catch (error) {
    await child.stop('SIGTERM', 2000);
    throw error;
  }
  return router;
}

/** Direct children of a process (HAProxy's workers), from /proc. */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
