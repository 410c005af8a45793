/**
 * Resident memory of a process from /proc/PID/status: VmRSS (resident now) and
 * VmHWM (the high-water mark of VmRSS since the process started). Both are what
 * an operator's `ps`/`top` and a container's memory limit see, heap and
 * off-heap (SharedArrayBuffer slabs, lru-cache's typed arrays) alike.
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
