/**
 * Child processes for the CI scripts: run a command to its end with a safety
 * bound, capturing its output. The bound is never the verdict: a command that
 * exceeds it is a failure named as such ("timed out after ... ms"), and its
 * whole process group is killed so no grandchild outlives the script.
 */

import { spawn, type SpawnOptions } from 'node:child_process';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Written to the command's stdin, then stdin is closed. Without it the command's
   * stdin is /dev/null: nothing is written, so nothing can fail to be written.
   */
  input?: string;
  /** Safety bound in ms (default 120,000). */
  timeoutMs?: number;
}

export interface RunResult {
  readonly command: string;
  /** Exit code, or null when killed by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly ok: boolean;
}

/** How long output pipes may stay open after the command exits (its last output still flowing). */
const ORPHAN_GRACE_MS = 10_000;

/** Runs `file args...` without a shell. Never rejects: spawn errors come back as a failed result. */
export function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const command = [file, ...args].join(' ');
  const spawnOptions: SpawnOptions = {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    detached: true, // its own process group, killed as one on timeout
  };
  return new Promise((resolve) => {
    const child = spawn(file, args, spawnOptions);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, options.timeoutMs ?? 120_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ command, code: null, signal: null, stdout, stderr: stderr + String(error), timedOut, ok: false });
    });
    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null, problem?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (timedOut) stderr += `\n(timed out after ${options.timeoutMs ?? 120_000} ms: killed)`;
      if (problem !== undefined) stderr += `\n(${problem})`;
      resolve({ command, code, signal, stdout, stderr, timedOut, ok: code === 0 && !timedOut && problem === undefined });
    };
    // A command may exit without reading all its input (or any): the write then fails with EPIPE.
    // That is the command's choice, judged by its exit code, not a crash of this script; the note
    // says why the input was cut short. 'close' below waits for the output pipes, not for stdin,
    // so the result also waits for stdin to close: the note is in it whatever the events' order.
    let stdinClosed = Promise.resolve();
    if (child.stdin) {
      const stdin = child.stdin;
      stdinClosed = new Promise((closed) => stdin.once('close', () => closed()));
      stdin.on('error', (error: NodeJS.ErrnoException) => {
        stderr += `\n(stdin not fully read: ${error.code ?? error.message})`;
      });
      stdin.end(options.input);
    }
    child.on('close', (code, signal) => void stdinClosed.then(() => finish(code, signal)));
    // A process the command started in another process group and left running may hold the
    // output pipes open for ever: that is a failure, not a hang.
    child.on('exit', (code, signal) => {
      setTimeout(() => finish(code, signal, 'exited, but a process it started still holds its output open'), ORPHAN_GRACE_MS).unref();
    });
  });
}

/** SIGKILL to a process group we started (detached), ignoring one that has already gone. */
export function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already exited
  }
}

/** The last `lines` lines of a command's output, for a failure message. */
export function tail(result: RunResult, lines = 25): string {
  const text = `${result.stdout}\n${result.stderr}`.trim().split('\n');
  return text.slice(-lines).join('\n');
}
