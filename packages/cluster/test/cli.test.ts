/**
 * Issue 16: `pnpm cluster --nodes N --port P`, the real CLI (src/cli.ts through
 * tsx) with real HAProxy and real nodes (from source, SLABCACHE_SERVER_CLI).
 *
 * The "done when": the seed's curl put/get through P, each of
 * P+1..P+3 holds a share of the keys; SIGTERM or Ctrl-C (SIGINT) stops every
 * process it started, by PID. Ports 17310-17316.
 */

import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { promisify } from 'node:util';

import { destroyAgent, getKey, mapConcurrent, putJson, REPO_DIR, SERVER_CLI_FROM_SOURCE } from './support/cluster';

const execFileAsync = promisify(execFile);
const PORT = 17310;

interface CliRun {
  readonly child: ChildProcessWithoutNullStreams;
  output(): string;
  /** Resolves when a line matching `pattern` has been printed (or rejects when the CLI exits first). */
  printed(pattern: RegExp): Promise<RegExpMatchArray>;
  exited: Promise<number | string>;
}

function runCli(args: readonly string[]): CliRun {
  const child = spawn(process.execPath, ['--import', 'tsx', 'packages/cluster/src/cli.ts', ...args], {
    cwd: REPO_DIR,
    env: { ...process.env, SLABCACHE_SERVER_CLI: SERVER_CLI_FROM_SOURCE, LOG_LEVEL: 'warn', NODE_OPTIONS: '' },
  });
  let output = '';
  const listeners: Array<() => void> = [];
  const onData = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    listeners.forEach((listener) => listener());
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | string>((resolve) => child.on('close', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    child,
    output: () => output,
    exited,
    printed: (pattern) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(output);
          if (match) resolve(match);
        };
        listeners.push(check);
        check();
        void exited.then((code) => reject(new Error(`the CLI exited (${code}) before printing ${pattern}:\n${output}`)));
      }),
  };
}

/** PIDs the CLI printed: the router's and every node's. */
function printedPids(output: string): number[] {
  return [...output.matchAll(/^ {2}(?:router|node\d+) +http:\S+ +pid (\d+)/gm)].map((match) => Number(match[1]));
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function nodeItems(port: number): Promise<number> {
  const stats = (await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as { engine: { curr_items: number } };
  return stats.engine.curr_items;
}

/** After a failed test: SIGTERM (which stops the router and nodes), SIGKILL only if that does not end it. */
async function stopCli(cli: CliRun): Promise<void> {
  if (cli.child.exitCode !== null || cli.child.signalCode !== null) return;
  cli.child.kill('SIGTERM');
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), 20_000);
  await cli.exited;
  clearTimeout(timer);
}

afterAll(() => destroyAgent());

describe('pnpm cluster', () => {
  it('prints its usage with --help and refuses bad arguments with status 2', async () => {
    const help = runCli(['--help']);
    expect(await help.exited).toBe(0);
    expect(help.output()).toContain('Usage: pnpm cluster --nodes N --port P');
    for (const args of [['--nodes', '0', '--port', String(PORT)], ['--nodes', '3'], ['--nodes', '3', '--port', '70000'], ['--bogus']]) {
      const bad = runCli(args);
      expect({ args, status: await bad.exited }).toEqual({ args, status: 2 });
    }
  }, 60_000);

  it('serves the seed\'s curl put/get through the router, spreads keys over every node, and stops everything on SIGTERM', async () => {
    const cli = runCli(['--nodes', '3', '--port', String(PORT), '--max-keys', '20000', '--max-bytes', String(64 * 1024 * 1024)]);
    try {
      await cli.printed(/Ctrl-C or SIGTERM \(kill \d+\)/);
      const output = cli.output();
      expect(output).toMatch(/behind HAProxy \d+\.\d+/); // 2.6 on Debian 12, 3.0 in the Docker image's CI run
      expect(output).toContain('deploy/haproxy/slabcache.cfg');
      expect(output).toMatch(/\/nodes\.cfg/);
      const pids = printedPids(output);
      expect(pids).toHaveLength(4);

      const router = `http://127.0.0.1:${PORT}`;
      const put = await execFileAsync('curl', ['-sS', '-X', 'POST', `${router}/put`, '-H', 'Content-Type: application/json', '-d', '{"key":"foo","value":"bar"}']);
      expect(put.stdout).toBe('{"ok":true}');
      const get = await execFileAsync('curl', ['-sS', `${router}/get?key=foo`]);
      expect(get.stdout).toBe('{"key":"foo","value":"bar"}');

      const keys = Array.from({ length: 300 }, (_, i) => `cli-${i}`);
      expect((await mapConcurrent(keys, 8, (key) => putJson(router, key, 'v'))).every((a) => a.status === 200)).toBe(true);
      expect((await mapConcurrent(keys, 8, (key) => getKey(router, key))).every((a) => a.status === 200)).toBe(true);
      const items = await Promise.all([1, 2, 3].map((i) => nodeItems(PORT + i)));
      expect(items.reduce((a, b) => a + b, 0)).toBe(keys.length + 1);
      for (const count of items) expect(count).toBeGreaterThan(0);

      expect(pids.every(isRunning)).toBe(true);
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
      expect(pids.filter(isRunning)).toEqual([]);
    } finally {
      await stopCli(cli);
    }
  }, 120_000);

  it('stops everything on Ctrl-C (SIGINT) too', async () => {
    const cli = runCli(['--nodes', '1', '--port', String(PORT + 5), '--max-keys', '1000', '--max-bytes', String(16 * 1024 * 1024)]);
    try {
      await cli.printed(/Ctrl-C or SIGTERM/);
      const pids = printedPids(cli.output());
      expect(pids).toHaveLength(2);
      cli.child.kill('SIGINT');
      expect(await cli.exited).toBe(0);
      expect(pids.filter(isRunning)).toEqual([]);
    } finally {
      await stopCli(cli);
    }
  }, 120_000);

  it('refuses a port that is taken, names it, and leaves nothing running', async () => {
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen({ host: '127.0.0.1', port: PORT + 2, exclusive: true }, resolve));
    try {
      const cli = runCli(['--nodes', '3', '--port', String(PORT)]);
      expect(await cli.exited).toBe(1);
      expect(cli.output()).toContain(`port ${PORT + 2} for node2 is already in use`);
      expect(printedPids(cli.output())).toEqual([]);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  }, 60_000);
});
