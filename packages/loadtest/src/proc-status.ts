/**
 * Resident memory of a process from /proc/PID/status: VmRSS (resident now) and
 * VmHWM (the high-water mark of VmRSS since the process started). Both are what
 * an operator's `ps`/`top` and a container's memory limit see, heap and
 * off-heap (SharedArrayBuffer slabs, lru-cache's typed arrays) alike. Also the
 * CPU time a process has used, from /proc/PID/stat, for the benchmarks' CPU
 * per request.
 */

import { readFileSync } from 'node:fs';

export interface ProcessMemory {
  /** Resident set size, KiB. */
  rssKiB: number;
  /** Peak resident set size since start, KiB. */
  hwmKiB: number;
}

export function parseProcStatus(text: string): ProcessMemory {
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+)\\s+kB$`, 'm').exec(text);
    if (!match?.[1]) throw new Error(`/proc status has no ${name} line`);
    return Number(match[1]);
  };
  return { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') };
}

export function readProcessMemory(pid: number): ProcessMemory {
  return parseProcStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

/** Clock ticks per second of the times in /proc/PID/stat (USER_HZ, 100 on Linux). */
export const TICKS_PER_SECOND = 100;

/** utime + stime of a process, all its threads, in clock ticks (/proc/PID/stat fields 14 and 15). */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}
