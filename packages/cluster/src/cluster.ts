/**
 * A local cluster: N slabcache nodes on loopback behind one HAProxy router.
 *
 *   router  host:port          HAProxy, deploy/haproxy/slabcache.cfg + <runDir>/nodes.cfg
 *   node i  host:(port + i)    the server CLI, i = 1..N (node ids are also ring ids)
 *
 * Membership is the nodes file: every node ever added, running or not. A node
 * that stops stays a member; the router's health checks take it out of the
 * ring and put it back when it answers again, as they would for a real host.
 * Adding a node writes the new file and reloads the router.
 *
 * Everything started here is stopped here, by PID: the router first (no new
 * requests), then the nodes (each finishes what it has in flight).
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { ChildExit } from './child.js';
import { findHaproxy, startRouter, type HaproxyBinary, type Router } from './haproxy.js';
import { renderNodesConfig, serverName, type NodeEntry } from './nodes-config.js';
import { startNode, type CacheNode } from './node-process.js';
import { paths } from './paths.js';
import { assertPortFree } from './ports.js';
import type { ServerStat } from './runtime-api.js';

export interface ClusterOptions {
  readonly nodes: number;
  /** The router's port; node i listens on port + i. */
  readonly port: number;
  /** Loopback by default. */
  readonly host?: string;
  /** How to run a node (default: this Node binary with packages/server/dist/cli.js). */
  readonly nodeCommand?: readonly string[];
  /** Settings for every node (THREADS, MAX_KEYS, MAX_BYTES, LOG_LEVEL, ...). */
  readonly nodeEnv?: Readonly<Record<string, string>>;
  readonly haproxy?: HaproxyBinary;
  /** Each output line of the router ("router") and of the nodes ("node<i>"). */
  readonly onLine?: (source: string, line: string) => void;
  /** Called when a node or the router exits without being asked to. */
  readonly onUnexpectedExit?: (source: string, exit: ChildExit) => void;
}

export interface LocalCluster {
  readonly router: Router;
  readonly host: string;
  /** Holds nodes.cfg and the router's admin socket; removed by stop(). */
  readonly runDir: string;
  readonly nodesConfigPath: string;
  /** Ids of every member, running or not. */
  memberIds(): number[];
  /** The running node with this id. */
  node(id: number): CacheNode;
  runningNodes(): CacheNode[];
  /** Stops a node (SIGTERM: graceful, SIGKILL: a crash). It stays a member: the router's checks take it out. */
  stopNode(id: number, signal?: NodeJS.Signals): Promise<ChildExit>;
  /** Starts a stopped member again on its port, empty. */
  restartNode(id: number): Promise<CacheNode>;
  /** Starts node N+1 on port + N + 1, adds it to the nodes file and reloads the router; resolves once the router serves it. */
  addNode(): Promise<CacheNode>;
  stop(): Promise<void>;
}

const DEFAULT_HOST = '127.0.0.1';

export async function startCluster(options: ClusterOptions): Promise<LocalCluster> {
  if (!Number.isInteger(options.nodes) || options.nodes < 1) throw new Error(`--nodes must be a positive integer, got ${options.nodes}`);
  if (!Number.isInteger(options.port) || options.port < 1 || options.port + options.nodes > 65535) {
    throw new Error(`--port must leave room for the nodes: ${options.port} + ${options.nodes} must be at most 65535`);
  }
  const host = options.host ?? DEFAULT_HOST;
  const haproxy = options.haproxy ?? findHaproxy();
  const nodeCommand = options.nodeCommand ?? [process.execPath, paths.serverCli()];
  const ids = Array.from({ length: options.nodes }, (_, i) => i + 1);
  await assertPortFree(host, options.port, 'the router');
  for (const id of ids) await assertPortFree(host, options.port + id, serverName(id));

  const runDir = mkdtempSync(join(tmpdir(), 'slabcache-cluster-'));
  const nodesConfigPath = join(runDir, 'nodes.cfg');
  const members: number[] = [];
  const running = new Map<number, CacheNode>();
  const stopping = new Set<string>();
  let router: Router | undefined;

  const watch = (source: string, exited: Promise<ChildExit>) => {
    void exited.then((exit) => {
      if (!stopping.has(source)) options.onUnexpectedExit?.(source, exit);
    });
  };
  const launch = async (id: number): Promise<CacheNode> => {
    const source = serverName(id);
    stopping.delete(source);
    const node = await startNode({
      id,
      host,
      port: options.port + id,
      command: nodeCommand,
      ...(options.nodeEnv ? { env: options.nodeEnv } : {}),
      ...(options.onLine ? { onLine: (line: string) => options.onLine?.(source, line) } : {}),
    });
    running.set(id, node);
    watch(source, node.child.exited);
    // A node that dies on its own is no longer running (it can be restarted); it stays a member.
    void node.child.exited.then(() => {
      if (running.get(id) === node) running.delete(id);
    });
    return node;
  };
  const writeNodesConfig = () => {
    const entries: NodeEntry[] = members.map((id) => ({ id, host, port: options.port + id }));
    writeFileSync(
      nodesConfigPath,
      renderNodesConfig(entries, { comment: [`Written by @slabcache/cluster for the local cluster on ${host}:${options.port}.`] }),
    );
  };
  const stopAll = async () => {
    stopping.add('router');
    await router?.stop();
    await Promise.all(
      [...running.entries()].map(async ([id, node]) => {
        stopping.add(serverName(id));
        await node.stop('SIGTERM');
      }),
    );
    running.clear();
    rmSync(runDir, { recursive: true, force: true });
  };

  try {
    const started = await Promise.allSettled(ids.map((id) => launch(id)));
    const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
    members.push(...ids);
    writeNodesConfig();
    router = await startRouter({
      haproxy,
      host,
      port: options.port,
      nodesConfig: nodesConfigPath,
      adminSocket: join(runDir, 'admin.sock'),
      ...(options.onLine ? { onLine: (line: string) => options.onLine?.('router', line) } : {}),
    });
    await router.waitFor('every node up', (stats) => allUp(stats, members));
    watch('router', router.child.exited);
  } catch (error) {
    await stopAll();
    throw error;
  }
  const liveRouter = router;

  const cluster: LocalCluster = {
    router: liveRouter,
    host,
    runDir,
    nodesConfigPath,
    memberIds: () => [...members],
    node: (id) => {
      const node = running.get(id);
      if (!node) throw new Error(`node ${id} is not running`);
      return node;
    },
    runningNodes: () => [...running.values()],
    stopNode: async (id, signal = 'SIGTERM') => {
      const node = cluster.node(id);
      stopping.add(serverName(id));
      return node.stop(signal);
    },
    restartNode: async (id) => {
      if (!members.includes(id)) throw new Error(`node ${id} is not a member`);
      if (running.has(id)) throw new Error(`node ${id} is running`);
      return launch(id);
    },
    addNode: async () => {
      const id = Math.max(...members) + 1;
      if (options.port + id > 65535) throw new Error(`no port left for node ${id}`);
      const node = await launch(id);
      members.push(id);
      writeNodesConfig();
      await liveRouter.reload((stats) => allUp(stats, members));
      return node;
    },
    stop: stopAll,
  };
  return cluster;
}

function allUp(stats: readonly ServerStat[], ids: readonly number[]): boolean {
  return ids.every((id) => stats.some((s) => s.server === serverName(id) && s.status === 'UP'));
}
