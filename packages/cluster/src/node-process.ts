/**
 * One cache node: the slabcache server CLI in a child process, on loopback.
 *
 * The port is checked free first (ports.ts). The node is ready when GET /stats
 * answers from the process this module started (its `process.pid`), so a
 * stray server on the same port can never pass for it.
 */

import { setTimeout as sleep } from 'node:timers/promises';

import { spawnManaged, type ChildExit, type ManagedChild } from './child.js';
import { assertPortFree } from './ports.js';

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
const POLL_MS = 50;

export interface NodeOptions {
  readonly id: number;
  readonly host: string;
  readonly port: number;
  /** The command line that runs the server CLI, e.g. [process.execPath, 'packages/server/dist/cli.js']. */
  readonly command: readonly string[];
  /** Environment added to the runner's (settings such as THREADS, MAX_KEYS; PORT and HOST are set here). */
  readonly env?: Readonly<Record<string, string>>;
  readonly onLine?: (line: string) => void;
}

/** The part of a node's GET /stats the cluster reads. */
export interface NodeStats {
  readonly engine: { readonly curr_items: number; readonly cmd_set: number; readonly get_hits: number; readonly get_misses: number };
  readonly process: { readonly pid: number };
}

export interface CacheNode {
  readonly id: number;
  readonly port: number;
  readonly url: string;
  readonly child: ManagedChild;
  stats(): Promise<NodeStats>;
  /** SIGTERM: the server's graceful stop. SIGKILL: a crash. */
  stop(signal?: NodeJS.Signals): Promise<ChildExit>;
}

export async function startNode(options: NodeOptions): Promise<CacheNode> {
  const name = `node${options.id}`;
  await assertPortFree(options.host, options.port, name);
  const [command, ...args] = options.command;
  if (!command) throw new Error('empty node command');
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env, PORT: String(options.port), HOST: options.host };
  // The runner's own NODE_OPTIONS (a TypeScript loader, a debugger) must not leak into the nodes.
  delete env['NODE_OPTIONS'];
  const child = spawnManaged(name, command, args, { env, ...(options.onLine ? { onLine: options.onLine } : {}) });
  const url = `http://${options.host}:${options.port}`;
  const stats = async (): Promise<NodeStats> => {
    const response = await fetch(`${url}/stats`, { signal: AbortSignal.timeout(5000) });
    if (response.status !== 200) throw new Error(`${name} GET /stats answered ${response.status}`);
    return (await response.json()) as NodeStats;
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (!child.isAlive()) throw new Error(`${name} exited before it was ready (port ${options.port}):\n${child.output()}`);
    try {
      const pid = (await stats()).process.pid;
      if (pid !== child.pid) {
        await child.stop('SIGKILL');
        throw new Error(`port ${options.port} is answered by process ${pid}, not by ${name} (${child.pid})`);
      }
      break;
    } catch (error) {
      if ((error as Error).message.startsWith('port ')) throw error;
      if (Date.now() > deadline) {
        await child.stop('SIGKILL');
        throw new Error(`${name} did not answer /stats within ${READY_TIMEOUT_MS} ms:\n${child.output()}`);
      }
    }
    await sleep(POLL_MS);
  }

  return {
    id: options.id,
    port: options.port,
    url,
    child,
    stats,
    stop: (signal = 'SIGTERM') => child.stop(signal, STOP_GRACE_MS),
  };
}
