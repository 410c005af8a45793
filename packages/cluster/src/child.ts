/**
 * A child process the cluster owns: spawned in its own process group, its
 * output kept (the last 64 KiB) and optionally handed on line by line, and
 * stopped by its PID.
 *
 * Own process group: Ctrl-C in a terminal signals the whole foreground group,
 * and the nodes and the router must not get that signal at the same moment as
 * the runner that stops them in order (a node's second signal means "close
 * every socket now"). Stopping sends one signal to the PID, and if the process
 * has not exited after the grace period, SIGKILL to its process group (which
 * holds only what this child itself started, e.g. HAProxy's worker).
 */

import { spawn } from 'node:child_process';

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ManagedChild {
  readonly name: string;
  readonly pid: number;
  isAlive(): boolean;
  /** Resolves when the process has exited and its output is read. */
  readonly exited: Promise<ChildExit>;
  /** The last 64 KiB of stdout and stderr, interleaved as they arrived. */
  output(): string;
  signal(signal: NodeJS.Signals): void;
  /** Sends `signal`, waits up to `graceMs`, then SIGKILLs the process group. Resolves once it has exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<ChildExit>;
  /** Kills the process group at once, synchronously (for process 'exit' handlers). */
  killNow(): void;
}

export interface SpawnOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Called with each complete output line (stdout and stderr alike). */
  readonly onLine?: (line: string) => void;
}

const OUTPUT_KEEP_CHARS = 64 * 1024;
const DEFAULT_GRACE_MS = 10_000;

/** Every child of this process that is still running, so that nothing outlives the runner. */
const live = new Set<ManagedChild>();

/** Children spawned by this process and still running. */
export function liveChildren(): ManagedChild[] {
  return [...live];
}

export function spawnManaged(name: string, command: string, args: readonly string[], options: SpawnOptions): ManagedChild {
  const child = spawn(command, args, {
    env: options.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${name} (${command})`);

  let output = '';
  const partial = { stdout: '', stderr: '' };
  const take = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output = (output + text).slice(-OUTPUT_KEEP_CHARS);
    if (!options.onLine) return;
    const lines = (partial[stream] + text).split('\n');
    partial[stream] = lines.pop() ?? '';
    for (const line of lines) options.onLine(line);
  };
  child.stdout.on('data', take('stdout'));
  child.stderr.on('data', take('stderr'));

  let alive = true;
  const exited = new Promise<ChildExit>((resolve) => {
    child.on('error', () => {
      alive = false;
      live.delete(managed);
      resolve({ code: null, signal: null });
    });
    // 'close' comes after 'exit' once the output streams are drained.
    child.on('close', (code, signal) => {
      alive = false;
      live.delete(managed);
      for (const rest of [partial.stdout, partial.stderr]) if (rest && options.onLine) options.onLine(rest);
      resolve({ code, signal });
    });
  });

  const killGroup = () => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };

  const managed: ManagedChild = {
    name,
    pid,
    isAlive: () => alive,
    exited,
    output: () => output,
    signal: (signal) => {
      if (alive) process.kill(pid, signal);
    },
    stop: async (signal = 'SIGTERM', graceMs = DEFAULT_GRACE_MS) => {
      if (alive) {
        try {
          process.kill(pid, signal);
        } catch {
          // Exited between the check and the signal.
        }
        const timer = setTimeout(killGroup, graceMs);
        const result = await exited;
        clearTimeout(timer);
        return result;
      }
      return exited;
    },
    killNow: () => {
      if (alive) killGroup();
    },
  };
  live.add(managed);
  return managed;
}
