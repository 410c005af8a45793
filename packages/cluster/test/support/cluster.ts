/**
 * Test clusters: real HAProxy, real nodes (the server CLI from source, as the
 * server's own CLI tests run it), on 127.0.0.1 with the fixed ports each test
 * file is given from this package's range 17300-17399:
 *
 *   17300-17309  left free for a manual `pnpm cluster --nodes 3 --port 17300`
 *   17310-17319  cli.test.ts
 *   17320-17329  routing.test.ts
 *   17330-17339  cluster.test.ts
 *
 * Fixed because the router must know the nodes' ports before they start; each
 * port is checked free first (ports.ts), so a clash is a clear error.
 */

import http from 'node:http';
import path from 'node:path';

import { startCluster, type LocalCluster } from '../../src/cluster';

export const REPO_DIR = path.resolve(__dirname, '../../../..');
/** Runs packages/server/src/cli.ts through tsx, with the engine from source: no build needed. */
export const SERVER_CLI_FROM_SOURCE = path.join(REPO_DIR, 'packages/server/test/support/cli-boot.cjs');
export const NODE_FROM_SOURCE = [process.execPath, SERVER_CLI_FROM_SOURCE] as const;
/** Small nodes: one thread, 20,000 keys, 64 MiB of slabs. */
export const TEST_NODE_ENV = { THREADS: '1', MAX_KEYS: '20000', MAX_BYTES: String(64 * 1024 * 1024), LOG_LEVEL: 'warn' } as const;

export function startTestCluster(nodes: number, port: number): Promise<LocalCluster> {
  return startCluster({ nodes, port, nodeCommand: NODE_FROM_SOURCE, nodeEnv: TEST_NODE_ENV });
}

export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: http.IncomingHttpHeaders;
}

/** Keep-alive connections, shared by the requests of a test file. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

export function destroyAgent(): void {
  agent.destroy();
}

export function call(
  base: string,
  method: string,
  pathAndQuery: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: pathAndQuery,
        agent,
        headers: body === undefined ? headers : { 'content-length': String(Buffer.byteLength(body)), ...headers },
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${pathAndQuery}: no answer within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The seed's write: POST /put with a JSON body, nothing in the URL. */
export function putJson(base: string, key: string, value: string): Promise<Answer> {
  return call(base, 'POST', '/put', JSON.stringify({ key, value }), { 'content-type': 'application/json' });
}

export function getKey(base: string, key: string): Promise<Answer> {
  return call(base, 'GET', `/get?key=${encodeURIComponent(key)}`);
}

/** Runs `task` over `items` with at most `concurrency` in flight; results in input order. */
export async function mapConcurrent<T, R>(items: readonly T[], concurrency: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** Which node holds each key, asked of every node directly (GET /get, not through the router). */
export async function homesOf(cluster: LocalCluster, keys: readonly string[]): Promise<Map<string, number[]>> {
  const homes = new Map<string, number[]>(keys.map((key) => [key, []]));
  for (const node of cluster.runningNodes()) {
    const answers = await mapConcurrent(keys, 16, (key) => getKey(node.url, key));
    answers.forEach((answer, i) => {
      if (answer.status === 200) homes.get(keys[i] as string)?.push(node.id);
      else if (answer.status !== 404) throw new Error(`node${node.id} answered ${answer.status} for ${keys[i]}: ${answer.body}`);
    });
  }
  return homes;
}

export function errorCode(answer: Answer): string | undefined {
  try {
    return (JSON.parse(answer.body) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}
