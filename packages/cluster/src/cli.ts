/**
 * `pnpm cluster --nodes N --port P`: N slabcache nodes and an HAProxy router
 * on loopback, in the foreground. The router listens on P, node i on P + i.
 *
 * It installs nothing (HAProxy comes from apt, see docs/cluster.md) and prints
 * which HAProxy and which configuration files it runs. Ctrl-C or SIGTERM stops
 * the router and then every node, by PID; a second signal kills them at once.
 *
 * Exit status: 0 after a stop by signal; 1 if the cluster cannot start or the
 * router dies; 2 for bad arguments.
 */

import { parseArgs } from 'node:util';

import { liveChildren } from './child.js';
import { startCluster, type LocalCluster } from './cluster.js';
import { findHaproxy } from './haproxy.js';
import { serverName } from './nodes-config.js';

const USAGE = `Usage: pnpm cluster --nodes N --port P [--threads T] [--max-keys K] [--max-bytes B]

Runs N slabcache nodes and an HAProxy router on 127.0.0.1, in the foreground.
The router listens on P and routes every key to one node (consistent hashing);
node i listens on P + i. Ctrl-C or SIGTERM stops all of them.

  --nodes N       nodes to start (1 to 64)
  --port P        the router's port; the nodes take P+1 .. P+N
  --threads T     server threads per node (THREADS; default 1: scale with nodes)
  --max-keys K    MAX_KEYS of each node (default: the server's, 5,000,000)
  --max-bytes B   MAX_BYTES of each node (default: the server's, 1.5 GiB, reserved, touched as it fills)
  -h, --help      print this help

Every other server setting is read from the environment by each node
(LOG_LEVEL, MAX_VALUE_BYTES, ...); SNAPSHOT_PATH is refused (one file for N nodes).
HAProxy is found through SLABCACHE_HAPROXY, PATH, /usr/sbin or /usr/local/sbin.
The nodes run packages/server/dist/cli.js (built first by pnpm cluster), or the
script named by SLABCACHE_SERVER_CLI.`;

const MAX_NODES = 64;

function fail(message: string, status: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(status);
}

function positiveInteger(name: string, text: string | undefined, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) fail(`--${name} must be an integer from 1 to ${max}, got ${JSON.stringify(text)}\n\n${USAGE}`, 2);
  return Number(text);
}

function parseCommandLine() {
  let parsed;
  try {
    parsed = parseArgs({
      // `pnpm cluster -- --nodes 3` passes the `--` through: skip it.
      args: process.argv.slice(2).filter((arg, i) => !(i === 0 && arg === '--')),
      options: {
        nodes: { type: 'string' },
        port: { type: 'string' },
        threads: { type: 'string' },
        'max-keys': { type: 'string' },
        'max-bytes': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    fail(`${(error as Error).message}\n\n${USAGE}`, 2);
  }
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const nodes = positiveInteger('nodes', parsed.nodes, MAX_NODES);
  const port = positiveInteger('port', parsed.port, 65535);
  if (nodes === undefined || port === undefined) fail(`--nodes and --port are required\n\n${USAGE}`, 2);
  if (process.env['SNAPSHOT_PATH']) fail('SNAPSHOT_PATH is set: the nodes of a local cluster would all write one file; unset it', 2);
  const nodeEnv: Record<string, string> = { THREADS: String(positiveInteger('threads', parsed.threads, 256) ?? 1) };
  const maxKeys = positiveInteger('max-keys', parsed['max-keys']);
  const maxBytes = positiveInteger('max-bytes', parsed['max-bytes']);
  if (maxKeys !== undefined) nodeEnv['MAX_KEYS'] = String(maxKeys);
  if (maxBytes !== undefined) nodeEnv['MAX_BYTES'] = String(maxBytes);
  return { nodes, port, nodeEnv };
}

function describe(cluster: LocalCluster): string {
  const r = cluster.router;
  const lines = [
    `slabcache cluster: ${cluster.memberIds().length} nodes behind HAProxy ${r.haproxy.version} (runner pid ${process.pid})`,
    `  router  ${r.url}  pid ${r.child.pid}  (${r.haproxy.path})`,
    `          config: ${r.configFiles.join('\n                  ')}`,
    `          runtime API: ${r.adminSocket}  (echo "show stat" | socat stdio ${r.adminSocket})`,
    ...cluster
      .runningNodes()
      .sort((a, b) => a.id - b.id)
      .map((node) => `  ${serverName(node.id).padEnd(6)}  ${node.url}  pid ${node.child.pid}`),
    '',
    'Try:',
    `  curl -X POST ${r.url}/put -H "Content-Type: application/json" -d '{"key":"foo","value":"bar"}'`,
    `  curl ${r.url}/get?key=foo`,
    `Ctrl-C or SIGTERM (kill ${process.pid}) stops the router and the nodes.`,
  ];
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const { nodes, port, nodeEnv } = parseCommandLine();
  let haproxy;
  try {
    haproxy = findHaproxy();
  } catch (error) {
    fail((error as Error).message, 1);
  }
  let cluster: LocalCluster | undefined;
  let stopping = false;

  const stopAndExit = async (status: number) => {
    stopping = true;
    try {
      if (cluster) await cluster.stop();
      // Still starting: stop whatever has been started so far.
      else await Promise.all(liveChildren().map((child) => child.stop('SIGTERM')));
    } finally {
      process.exit(status);
    }
  };
  const killEverythingNow = () => {
    for (const child of liveChildren()) child.killNow();
  };
  // Whatever ends this process, nothing it started is left running.
  process.on('exit', killEverythingNow);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) {
        process.stdout.write(`${signal} again: killing every process now\n`);
        killEverythingNow();
        process.exit(1);
      }
      process.stdout.write(`${signal}: stopping the router, then the nodes\n`);
      void stopAndExit(0);
    });
  }

  // pnpm runs this through `sh -c '... && exec node ...'`, so a signal to pnpm reaches this process.
  // If the parent dies anyway (SIGKILL), stop too: nothing this runner started may outlive it.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent && !stopping) {
      process.stdout.write('the parent process is gone: stopping the router, then the nodes\n');
      void stopAndExit(0);
    }
  }, 1000).unref();

  process.stdout.write(`starting ${nodes} nodes on 127.0.0.1:${port + 1}-${port + nodes} and HAProxy ${haproxy.version} on 127.0.0.1:${port}\n`);
  try {
    const serverCli = process.env['SLABCACHE_SERVER_CLI'];
    cluster = await startCluster({
      nodes,
      port,
      haproxy,
      nodeEnv,
      ...(serverCli ? { nodeCommand: [process.execPath, serverCli] } : {}),
      onLine: (source, line) => process.stdout.write(`[${source}] ${line}\n`),
      onUnexpectedExit: (source, exit) => {
        const how = exit.signal ?? `status ${exit.code}`;
        if (source === 'router') {
          process.stderr.write(`the router exited (${how}): stopping the nodes\n`);
          void stopAndExit(1);
        } else {
          process.stderr.write(`${source} exited (${how}); the router's health checks take it out of the ring, and its keys are misses\n`);
        }
      },
    });
  } catch (error) {
    if (stopping) return;
    process.stderr.write(`cannot start the cluster: ${(error as Error).message}\n`);
    process.exit(1);
  }
  if (stopping) return;
  process.stdout.write(describe(cluster));
}

void main();
