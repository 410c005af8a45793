/**
 * The report pipeline on a hand-made results file: the HTTP summary (medians,
 * ratios paired by round, failures and GC), the Markdown it renders, the
 * charts, and the files written to disk.
 */

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { buildCharts } from '../src/report/charts.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { writeReport } from '../src/report/render.js';
import { putSection } from '../src/report/sections.js';
import { median, spread } from '../src/report/stats.js';
import { summarizeHttp } from '../src/report/summary.js';
import { fixtureResults } from './support/fixture.js';

test('median and spread', () => {
  expect(median([3, 1, 2])).toBe(2);
  expect(median([4, 1, 3, 2])).toBe(2.5);
  expect(median([])).toBeNaN();
  expect(spread([1, 5, 3])).toEqual({ median: 3, min: 1, max: 5, n: 3 });
});

test('summarizeHttp takes medians per server and pairs ratios by round', () => {
  const results = fixtureResults();
  const summary = summarizeHttp(results.http!);
  expect(summary.rows).toHaveLength(1);
  const row = summary.rows[0]!;
  expect(row.ours?.requestsPerSecond).toBe(81_000); // median of 90k and 72k
  expect(row.baseline?.requestsPerSecond).toBe(9_500);
  // Round 1: 90k / 10k = 9; round 2: 72k / 9k = 8. Not 81k / 9.5k.
  expect(row.ratio).toEqual({ median: 8.5, min: 8, max: 9, n: 2 });
  // p99 speed-up = baseline p99 / ours p99: 20000/2000 = 10 and 30000/3000 = 10.
  expect(row.p99Speedup?.median).toBe(10);
  expect(row.baseline?.status404).toBe(3);
  expect(row.baseline?.failures).toBe(3); // 2 non-2xx + 1 socket error; 404s are not failures
  expect(row.ours?.failures).toBe(0);
  expect(row.baseline?.maxUs).toBe(90_000);
  expect(row.baseline?.gcMaxPauseMs).toBe(120);
  expect(row.ours?.gcMsPerSecond).toBe(10); // 80 ms over 8 s
  expect(summary.memory.map((m) => m.server)).toEqual(['ours', 'baseline']);
});

test('renderMarkdown states the machine, the headline ratio and every table', () => {
  const results = fixtureResults();
  const md = renderMarkdown(results, buildCharts(results));
  expect(md).toContain('# slabcache load test report (full)');
  expect(md).toContain('Test CPU, 2 cores');
  expect(md).toContain('| 1M keys | GET /get | 8.50× (8.00–9.00) | 10.00× (10.00–10.00) | 0.54× |'); // 81k ÷ redis GET 150k
  expect(md).toContain('| 1M keys | GET /get | ours | 81,000 |');
  expect(md).toMatch(/\| 1M keys \| GET \/get \| baseline \| 9,500 \| .* \| 3 \| 3 \| 98 \| /); // 404s, failures, RSS after (100,000 KiB)
  expect(md).toContain('120 ms'); // the baseline's worst GC pause
  expect(md).toContain('| 0 → 1,000,000 | baseline | 9,091 | 110.0 | 0 | 4,000 ms (500 GCs) | 250 ms |');
  // RSS per key above idle: (200 - 60) MiB / 1M keys = 147 B.
  expect(md).toMatch(/\| 1M keys \| ours \| 200 \| 210 \| n\/a \| n\/a \| 147 \|/);
  expect(md).toContain('| 1M keys | GET | 150,000 | 0.24 | 0.4 | 0.45 | 1.5 |');
  expect(md).toContain('| get-hit | 4,000,000 ± 1.5% | 8,000,000 ± 2.5% | 20,000,000 ± 0.5% | 0.50× |');
  expect(md).toContain('![Requests per second');
  expect(md).toContain('- a note');
  expect(md).toContain('THREADS=2');
  expect(md).toContain('--our-threads 1');
  expect(md).not.toContain('Preliminary');
  expect(md).not.toContain('NaN');
});

test('a smoke report and a busy machine are labelled as such', () => {
  expect(renderMarkdown(fixtureResults('smoke'), [])).toContain('**Smoke run:**');
  const busy = fixtureResults();
  busy.machine.loadAverage = [2.5, 2, 1];
  expect(renderMarkdown(busy, [])).toContain('**Preliminary:**');
});

test('buildCharts puts redis beside GET but not beside the mix', () => {
  const results = fixtureResults();
  results.http!.config.routes = ['get', 'mix'];
  results.http!.runs.push({ ...results.http!.runs[0]!, route: 'mix' });
  const charts = buildCharts(results);
  expect(charts.map((c) => c.file)).toEqual(['requests-per-second.svg', 'p99-latency.svg', 'memory.svg']);
  const throughput = charts[0]!.svg;
  expect(throughput).toContain('>150k</text>'); // redis GET
  expect((throughput.match(/fill="#8a8a8a"><title>/g) ?? []).length).toBe(1);
});

test('writeReport writes the Markdown, the charts and the results', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loadtest-report-test-'));
  try {
    const written = writeReport(fixtureResults(), dir);
    expect(readFileSync(written.markdown, 'utf8')).toContain('## Headline');
    for (const chart of written.charts) expect(readFileSync(chart, 'utf8')).toContain('</svg>');
    expect(JSON.parse(readFileSync(written.results, 'utf8')).kind).toBe('full');
    expect(existsSync(join(dir, 'memory.svg'))).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("other benchmarks' sections are put in, replaced, and kept when the report is rendered again", () => {
  const dir = mkdtempSync(join(tmpdir(), 'loadtest-report-test-'));
  try {
    const { markdown } = writeReport(fixtureResults(), dir);
    putSection(markdown, 'batch', 'Batches', 'first run\n');
    putSection(markdown, 'router-cost', 'Behind a router', 'router run\n');
    putSection(markdown, 'batch', 'Batches', 'second run\n');
    writeReport(fixtureResults(), dir);
    const text = readFileSync(markdown, 'utf8');
    expect(text).toContain('## Headline');
    expect(text).toContain('<!-- batch:start -->\n## Batches\n\nsecond run\n<!-- batch:end -->\n');
    expect(text).toContain('<!-- router-cost:start -->\n## Behind a router\n\nrouter run\n<!-- router-cost:end -->\n');
    expect(text).not.toContain('first run');
    expect(text.indexOf('## Headline')).toBeLessThan(text.indexOf('<!-- batch:start -->'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
