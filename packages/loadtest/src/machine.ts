/**
 * Describes the machine a run happened on, for the report's header: a number
 * without its machine (cores, CPU model, load, tool versions) cannot be
 * compared with anything.
 */

import { execFileSync } from 'node:child_process';
import { cpus, freemem, loadavg, release, totalmem } from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  freeMemoryGiB: number;
  kernel: string;
  node: string;
  /** 1, 5 and 15 minute load averages when the run started. */
  loadAverage: number[];
  tools: Record<string, string>;
}

function versionOf(command: string, args: string[]): string {
  try {
    const out = execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    return out.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'unknown';
  } catch (error) {
    // wrk -v prints its version and exits 1.
    const stdout = (error as { stdout?: string }).stdout ?? '';
    const line = stdout.split('\n').find((l) => l.trim() !== '')?.trim();
    return line ?? 'not installed';
  }
}

export function describeMachine(): MachineInfo {
  const cpuList = cpus();
  return {
    cpuModel: cpuList[0]?.model ?? 'unknown',
    cores: cpuList.length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    freeMemoryGiB: Math.round((freemem() / 1024 ** 3) * 10) / 10,
    kernel: release(),
    node: process.version,
    loadAverage: loadavg().map((v) => Math.round(v * 100) / 100),
    tools: {
      wrk: versionOf('wrk', ['-v']).replace(/\s+Copyright.*$/, ''),
      redis: versionOf('redis-server', ['--version']),
      // Debian's locust reports an empty __version__; the package version is the honest one.
      locust: versionOf('dpkg-query', ['-W', '-f', 'python3-locust ${Version}', 'python3-locust']),
    },
  };
}
