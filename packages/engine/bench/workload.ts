/** Pieces shared by the benchmark scripts: the result of one timed phase, a cheap key picker, fresh values. */

export interface PhaseResult {
  phase: string;
  ops: number;
  opsPerSec: number;
  gcTotalMs: number;
  gcMaxMs: number;
  gcP99Ms: number;
  majorGcs: number;
  /** Longest batch of 1,000 operations: the longest stall a server would have seen. */
  maxBatchMs: number;
  loopDelayMaxMs: number;
}

/** xorshift32: a key picker costing a few instructions, so it does not weigh on what is measured. */
export function makeKeyPicker(seed: number): (below: number) => number {
  let state = seed >>> 0 || 1;
  return (below) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % below;
  };
}

/**
 * Makes a new flat string of `valueBytes` characters ending in the digits of
 * n, as a value from a request would be: not a slice of a shared pool, and not
 * a concatenation (a cons string), which costs a cache more to read.
 */
export function makeValueMaker(valueBytes: number): (n: number) => string {
  const template = Buffer.alloc(valueBytes, 'v');
  return (n) => {
    let at = valueBytes;
    do {
      template[--at] = 48 + (n % 10);
      n = Math.floor(n / 10);
    } while (n > 0 && at > 0);
    return template.toString('latin1');
  };
}
