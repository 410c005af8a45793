/**
 * Runs the real CLI (src/cli.ts, through cli-boot.cjs) as a child process and
 * reads its JSON log lines, e.g. to learn the port it bound with PORT=0.
 */

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';

const BOOT = path.join(__dirname, 'cli-boot.cjs');

export interface CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Parsed JSON log lines seen so far on stdout. */
  readonly logs: Array<Record<string, unknown>>;
  stderr(): string;
  /** Resolves with the port from the "listening" log line. */
  listening(): Promise<number>;
  /** Resolves with the exit code (or the signal name) when the process ends. */
  exited(): Promise<number | string>;
}

/**
 * `wrapper` runs the CLI through another command that execs it, e.g.
 * `['ip', 'netns', 'exec', 'ns1']`: the child's PID is then still the server's.
 */
export function spawnCli(args: readonly string[] = [], env: Record<string, string> = {}, wrapper: readonly string[] = []): CliProcess {
  const [command, ...commandArgs] = [...wrapper, process.execPath, BOOT, ...args] as [string, ...string[]];
  const child = spawn(command, commandArgs, {
    // THREADS=1 unless a test asks for more: the CLI's default (one server thread per core) is tested in threads*.test.ts.
    env: { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', PORT: '0', THREADS: '1', MAX_KEYS: '10000', MAX_BYTES: String(64 * 1024 * 1024), ...env },
    stdio: 'pipe',
  });
  const logs: Array<Record<string, unknown>> = [];
  let stdoutRest = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (stdoutRest + chunk).split('\n');
    stdoutRest = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ raw: line });
      }
    }
    waiters.splice(0).forEach((wake) => wake());
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<number | string>((resolve) => {
    // 'close', not 'exit': it fires once stdout and stderr are fully read.
    child.on('close', (code, signal) => {
      waiters.splice(0).forEach((wake) => wake());
      resolve(code ?? signal ?? -1);
    });
  });
  let exitedAlready = false;
  void exit.then(() => (exitedAlready = true));

  return {
    child,
    logs,
    stderr: () => stderr,
    exited: () => exit,
    listening: async () => {
      for (;;) {
        const line = logs.find((l) => l['msg'] === 'listening');
        if (line) return line['port'] as number;
        if (exitedAlready) throw new Error(`CLI exited before listening: ${stderr}`);
        await new Promise<void>((wake) => waiters.push(wake));
      }
    },
  };
}
