/**
 * Starts the real baseline server (baseline/server.mjs) on a port the OS picks
 * (PORT=0) and reads the port from its "listening" line, for tests.
 */

import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface TestServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export function startBaseline(env: Record<string, string> = {}): Promise<TestServer> {
  const script = join(__dirname, '..', '..', 'baseline', 'server.mjs');
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`baseline did not start:\n${output}`));
    }, 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /baseline listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1] && child.pid !== undefined) {
        clearTimeout(timer);
        resolve({ url: match[1], pid: child.pid, stop });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`baseline exited with ${code}:\n${output}`));
    });
  });
}
