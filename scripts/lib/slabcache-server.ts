/**
 * A slabcache server as a child process, for the CI scripts: started with
 * `--port 0` on 127.0.0.1 (the OS picks a free port, so runs never collide),
 * ready once its `listening` log line (pino JSON on stdout) names the port,
 * stopped with SIGTERM to its process group (the command may be a wrapper,
 * such as npx, around node).
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';

import { killGroup } from './run.js';

/** Small limits: a smoke server needs a few keys, not 1.5 GiB of reserved slabs. */
export const SMALL_SERVER_ARGS = ['--port', '0', '--host', '127.0.0.1', '--threads', '1', '--max-keys', '10000', '--max-bytes', String(32 * 2 ** 20)];

export interface RunningSlabcache {
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  output(): string;
  /** SIGTERM, then the exit code (or the signal's name) once it has exited. */
  stop(): Promise<number | string>;
}

export interface StartOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Safety bound for reaching `listening` and for stopping (default 60,000 ms). */
  timeoutMs?: number;
}

/** Starts `command...` (which must take the server's flags) and waits for its listening line. */
export async function startSlabcache(command: readonly string[], options: StartOptions = {}): Promise<RunningSlabcache> {
  const [file, ...args] = command;
  if (file === undefined) throw new Error('startSlabcache: empty command');
  const timeoutMs = options.timeoutMs ?? 60_000;
  const child = spawn(file, args, {
    cwd: options.cwd,
    env: { ...(options.env ?? process.env), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const port = await new Promise<number>((resolve, reject) => {
    let pending = '';
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`no listening line within ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      killGroup(child.pid);
      reject(new Error(`${command.join(' ')}: ${error.message}\n${output.slice(-4000)}`));
    };
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const port = listeningPort(line);
        if (port !== undefined && !settled) {
          settled = true;
          clearTimeout(timer);
          resolve(port);
        }
      }
    });
    child.on('error', fail);
    void exited.then(([code, signal]) => fail(new Error(`exited (${code ?? signal}) before listening`)));
  });
  return {
    pid: child.pid!,
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? child.signalCode!;
      process.kill(-child.pid!, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child.pid), timeoutMs);
      const [code, signal] = await exited;
      clearTimeout(timer);
      return code ?? signal!;
    },
  };
}

function listeningPort(line: string): number | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const record = JSON.parse(line) as { msg?: unknown; port?: unknown };
    return record.msg === 'listening' && typeof record.port === 'number' ? record.port : undefined;
  } catch {
    return undefined;
  }
}
