/**
 * Quantiles of a bucketed latency histogram, estimated the way Prometheus's
 * `histogram_quantile()` does, so that /stats, the /dashboard page and a
 * Grafana panel over /metrics agree on what "p99" means:
 *
 *   rank = q × total
 *   find the first bucket whose cumulative count reaches rank
 *   interpolate linearly between that bucket's lower and upper bound
 *   (the first bucket starts at 0; a rank in the +Inf bucket answers the
 *   highest finite bound, as Prometheus does)
 *
 * The dashboard page carries its own copy of this function (it runs in the
 * browser over the difference of two /stats replies); a test checks the two
 * agree.
 */

/**
 * The q-quantile (0 ≤ q ≤ 1) of a histogram. `bounds` are the finite upper
 * bounds, ascending; `counts` holds one count per bucket, not cumulative, the
 * last one for +Inf (so `counts.length === bounds.length + 1`). Returns null
 * when the histogram is empty.
 */
export function histogramQuantile(q: number, bounds: readonly number[], counts: readonly number[]): number | null {
  if (counts.length !== bounds.length + 1) throw new RangeError('counts must have one bucket per bound plus +Inf');
  let total = 0;
  for (const count of counts) total += count;
  if (total <= 0) return null;
  const rank = Math.min(1, Math.max(0, q)) * total;
  let below = 0;
  for (let b = 0; b < bounds.length; b++) {
    const count = counts[b] as number;
    if (count > 0 && below + count >= rank) {
      const lower = b === 0 ? 0 : (bounds[b - 1] as number);
      const upper = bounds[b] as number;
      return lower + (upper - lower) * ((rank - below) / count);
    }
    below += count;
  }
  return bounds.length > 0 ? (bounds[bounds.length - 1] as number) : null;
}
