/**
 * The soak's pass/fail rules, as pure functions over the per-second samples.
 *
 * RSS is "flat" when, after the warm-up, the median of the last quarter of the
 * samples is within `maxGrowth` (5 %) of the median of the first quarter.
 * Medians, not single samples, because a GC or a page-cache hiccup moves one
 * second's RSS but not a quarter of the run; a leak of even a few hundred
 * bytes per request moves the median by tens of MiB over minutes. The slope of
 * a least-squares line is reported beside it, for the reader.
 */

export interface Sample {
  /** Seconds since the soak started. */
  readonly t: number;
  readonly phase: 'fill' | 'steady';
  readonly rssMiB: number;
  /** V8's heap (total) from /stats: tells heap growth apart from slab or native growth. */
  readonly heapMiB: number;
  /** Event-loop delay over the last second, from the server's /stats (NaN if the read failed). */
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
  readonly items: number;
  readonly evictions: number;
  /** The sampler's own /stats read failed (counted as an error). */
  readonly statsError: boolean;
}

export interface Flatness {
  readonly firstQuarterMiB: number;
  readonly lastQuarterMiB: number;
  readonly growth: number;
  readonly slopeMiBPerMinute: number;
  readonly flat: boolean;
  readonly samples: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Least-squares slope of y over x. */
export function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export function rssFlatness(afterWarmup: readonly Sample[], maxGrowth = 0.05): Flatness {
  const quarter = Math.max(1, Math.floor(afterWarmup.length / 4));
  const first = median(afterWarmup.slice(0, quarter).map((s) => s.rssMiB));
  const last = median(afterWarmup.slice(-quarter).map((s) => s.rssMiB));
  const growth = (last - first) / first;
  return {
    firstQuarterMiB: first,
    lastQuarterMiB: last,
    growth,
    slopeMiBPerMinute: slope(afterWarmup.map((s) => [s.t, s.rssMiB] as const)) * 60,
    flat: afterWarmup.length >= 8 && growth <= maxGrowth,
    samples: afterWarmup.length,
  };
}
