/**
 * histogramQuantile: Prometheus's histogram_quantile() estimate, which /stats,
 * the dashboard page and the Grafana board all use for p50/p99.
 */

import { histogramQuantile } from '../src/histogram';

const BOUNDS = [1, 2, 4, 8];

it('interpolates linearly inside the bucket that holds the rank', () => {
  // 10 requests, all in (1, 2]: the median is halfway through that bucket.
  expect(histogramQuantile(0.5, BOUNDS, [0, 10, 0, 0, 0])).toBeCloseTo(1.5, 12);
  // 4 in [0, 1], 4 in (1, 2], 2 in (2, 4]: p90 is rank 9, halfway into (2, 4].
  expect(histogramQuantile(0.9, BOUNDS, [4, 4, 2, 0, 0])).toBeCloseTo(3, 12);
  // The first bucket starts at 0.
  expect(histogramQuantile(0.25, BOUNDS, [4, 0, 0, 0, 0])).toBeCloseTo(0.25, 12);
});

it('answers the highest finite bound for a rank in the +Inf bucket, as Prometheus does', () => {
  expect(histogramQuantile(0.99, BOUNDS, [1, 0, 0, 0, 99])).toBe(8);
});

it('skips empty buckets and is monotonic in q', () => {
  const counts = [3, 0, 5, 0, 2];
  let last = -Infinity;
  for (let q = 0; q <= 1; q += 0.01) {
    const value = histogramQuantile(q, BOUNDS, counts) as number;
    expect(value).toBeGreaterThanOrEqual(last);
    last = value;
  }
  // p50 = rank 5 of 10: 2 into the 5 requests of (2, 4].
  expect(histogramQuantile(0.5, BOUNDS, counts)).toBeCloseTo(2 + 2 * (2 / 5), 12);
});

it('is null for an empty histogram and refuses counts that do not fit the bounds', () => {
  expect(histogramQuantile(0.5, BOUNDS, [0, 0, 0, 0, 0])).toBeNull();
  expect(() => histogramQuantile(0.5, BOUNDS, [1, 2, 3])).toThrow(RangeError);
});
