/** Pieces shared by the benchmark scripts: the result of one timed phase, and a cheap key picker. */

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
