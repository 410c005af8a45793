/**
 * Renders a results file as the Markdown report (reports/latest.md): the
 * machine, the headline ratios, then one table per measurement (HTTP
 * throughput and latency, fills, memory, the redis reference, the
 * microbenchmarks), the charts, and how it was all measured.
 *
 * Pure: results in, text out. It never measures anything and never rounds a
 * ratio into something it is not (ratios come from paired rounds, see
 * summary.ts).
 */

import type { LoadtestResults, MemorySample } from '../results.js';
import type { ChartFile } from './charts.js';
import { keysLabel } from './charts.js';
import { summarizeHttp, type ServerRouteSummary } from './summary.js';
import type { Spread } from './stats.js';

const ROUTE_NAMES = { get: 'GET /get', put: 'POST /put', mix: '90% GET / 10% PUT' } as const;

export function formatInt(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a';
}

function ms(micros: number): string {
  return Number.isFinite(micros) ? (micros / 1000).toFixed(micros >= 10_000 ? 0 : 2) : 'n/a';
}

function mib(kib: number | undefined): string {
  return kib === undefined ? 'n/a' : (kib / 1024).toFixed(0);
}

function mibBytes(bytes: number | undefined): string {
  return bytes === undefined ? 'n/a' : (bytes / 1024 ** 2).toFixed(0);
}

function ratioText(ratio: Spread | undefined): string {
  if (!ratio || !Number.isFinite(ratio.median)) return 'n/a';
  return ratio.n > 1 ? `${ratio.median.toFixed(2)}× (${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})` : `${ratio.median.toFixed(2)}×`;
}

const NUMERIC_CELL = /^(n\/a|[<>≈]?\s*[-+]?[\d.,]+\s*(×|%|ms|MiB|B)?(\s*(±|\(|–|\)|[\d.,%×])*)*)?$/;

/** A Markdown table; a column whose every cell is a number (or empty) is right-aligned. */
function table(header: string[], rows: string[][]): string {
  const align = header.map((_, i) => (rows.every((row) => NUMERIC_CELL.test((row[i] ?? '').trim())) ? '---:' : '---'));
  return [header, align, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

function gcText(summary: ServerRouteSummary | undefined): string {
  if (summary?.gcMsPerSecond === undefined) return 'n/a';
  const pause = summary.gcMaxPauseMs ?? 0;
  return `${summary.gcMsPerSecond.toFixed(0)} ms/s, worst ${pause >= 5 ? `${pause.toFixed(0)} ms` : '< 5 ms'}`;
}

function perKeyBytes(memory: MemorySample, idle: MemorySample | undefined, keys: number): string {
  if (!idle || keys <= 0) return 'n/a';
  return formatInt(((memory.rssKiB - idle.rssKiB) * 1024) / keys);
}

export function renderMarkdown(results: LoadtestResults, charts: readonly ChartFile[]): string {
  const m = results.machine;
  const out: string[] = [];
  out.push(`# slabcache load test report (${results.kind})`, '');
  out.push(`Generated ${results.finishedAt} (started ${results.startedAt}) by \`${results.command}\`.`, '');
  // Before the run, anything above half a core of load is someone else's work.
  const busy = (m.loadAverage[0] ?? 0) > 0.5;
  if (results.kind === 'smoke') {
    out.push('> **Smoke run:** tiny pools and a few seconds per driver, to prove the tooling works. These numbers are not benchmarks.', '');
  } else if (results.kind !== 'full' || busy) {
    const why = [
      results.kind !== 'full' ? `a short "${results.kind}" run, not the full one (\`pnpm --filter @slabcache/loadtest report\`)` : '',
      busy ? `the machine was not idle when it started (load average ${m.loadAverage.join(' / ')})` : '',
    ].filter((w) => w !== '');
    out.push(
      `> **Preliminary:** ${why.join('; and ')}. Absolute numbers are noisy; the ratios come from paired, alternating rounds and are the part to read.`,
      '',
    );
  }

  out.push('## Machine', '');
  out.push(
    table(
      ['what', 'value'],
      [
        ['CPU', `${m.cpuModel}, ${m.cores} cores (servers and load generators share them)`],
        ['memory', `${m.memoryGiB} GiB (${m.freeMemoryGiB} GiB free at start)`],
        ['kernel / Node', `${m.kernel} / ${m.node}`],
        ['load average (1/5/15 min)', `${m.loadAverage.join(' / ')} at start${results.loadAverageAtEnd ? `, ${results.loadAverageAtEnd.join(' / ')} at end (includes this run's own load)` : ''}`],
        ['tools', Object.entries(m.tools).map(([k, v]) => `${k}: ${v}`).join('; ')],
        ['network', 'loopback only (127.0.0.1)'],
      ],
    ),
    '',
  );

  const http = results.http;
  const summary = http ? summarizeHttp(http) : undefined;
  if (http && summary) {
    const c = http.config;
    out.push('## Headline', '');
    out.push(
      `Requests per second of our server divided by the baseline's (Express 4 + lru-cache 11, the seed's design), ` +
        `median over ${c.rounds} paired round${c.rounds === 1 ? '' : 's'} with the range in brackets; ` +
        `p99 speed-up is the baseline's p99 latency divided by ours.`,
      '',
    );
    const redisRps = (keys: number, route: string): number | undefined => {
      const test = route === 'get' ? 'GET' : route === 'put' ? 'SET' : undefined;
      return results.redis?.find((r) => r.keys === keys)?.tests.find((t) => t.test === test)?.requestsPerSecond;
    };
    const withRedis = summary.rows.some((r) => redisRps(r.keys, r.route) !== undefined);
    out.push(
      table(
        ['keys', 'route', 'throughput ratio', 'p99 speed-up', ...(withRedis ? ['ours ÷ redis'] : [])],
        summary.rows.map((r) => {
          const redis = redisRps(r.keys, r.route);
          const vsRedis = redis !== undefined && r.ours ? `${(r.ours.requestsPerSecond / redis).toFixed(2)}×` : '';
          return [keysLabel(r.keys), ROUTE_NAMES[r.route], ratioText(r.ratio), ratioText(r.p99Speedup), ...(withRedis ? [vsRedis] : [])];
        }),
      ),
      '',
    );
    if (withRedis) {
      out.push('"ours ÷ redis" puts our median req/s beside redis-benchmark GET (for GET) and SET (for PUT) at the same N, clients and value size (RESP, not HTTP).', '');
    }

    out.push('## HTTP throughput and latency (wrk)', '');
    if (c.ourThreads !== undefined) {
      out.push(
        `**Threads:** our server ran with THREADS=${c.ourThreads} (HTTP threads sharing one cache; its default is one per core); ` +
          'the baseline is one Node thread, as the seed. ' +
          (c.ourThreads > 1 ? `So on this ${m.cores}-core machine ours may use every core and the baseline one: the ratio compares the two designs as shipped, not per core (rerun with \`--our-threads 1\` for that).` : 'Both use at most one core for JavaScript.'),
        '',
      );
    }
    out.push(
      `wrk, ${c.threads} thread${c.threads === 1 ? '' : 's'}, ${c.connections} keep-alive connections, ${c.durationSeconds} s per run, ` +
        `${c.valueBytes}-byte values, keys drawn uniformly from the whole filled pool (GETs hit, PUTs overwrite), ` +
        `mix = ${100 - c.putPercentInMix}% GET / ${c.putPercentInMix}% PUT. Numbers are medians over rounds; max is the worst single request of all rounds; RSS after is the largest VmRSS sampled right after a run. ` +
        `GC is from the V8 GC observer loaded into each server and each of its threads (GC time of all threads per second of load, worst single pause).`,
      '',
    );
    const rows: string[][] = [];
    for (const r of summary.rows) {
      for (const [name, s] of [
        ['ours', r.ours],
        ['baseline', r.baseline],
      ] as const) {
        if (!s) continue;
        rows.push([
          keysLabel(r.keys),
          ROUTE_NAMES[r.route],
          name,
          formatInt(s.requestsPerSecond),
          ms(s.p50Us),
          ms(s.p90Us),
          ms(s.p99Us),
          ms(s.maxUs),
          formatInt(s.status404),
          formatInt(s.failures),
          mib(s.rssAfterKiB),
          gcText(s),
        ]);
      }
    }
    out.push(table(['keys', 'route', 'server', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', '404', 'failed', 'RSS after MiB', 'GC'], rows), '');

    out.push('## Filling the cache through the API', '');
    out.push(
      'Keys written with POST /put over keep-alive connections (wrk/preload.lua), from the previous size up to N; ' +
        'memory is sampled right after the fill.',
      '',
    );
    out.push(
      table(
        ['keys', 'server', 'sets/s', 'seconds', 'failed', 'GC total', 'worst GC pause'],
        http.fills.map((f) => [
          `${formatInt(f.fromKeys)} → ${formatInt(f.toKeys)}`,
          f.server,
          formatInt(f.setsPerSecond),
          f.seconds.toFixed(1),
          formatInt(f.failures),
          f.gc ? `${formatInt(f.gc.totalMs)} ms (${f.gc.count} GCs)` : 'n/a',
          f.gc ? (f.gc.maxPauseMs >= 5 ? `${f.gc.maxPauseMs.toFixed(0)} ms` : '< 5 ms') : 'n/a',
        ]),
      ),
      '',
    );

    out.push('## Memory at N keys', '');
    out.push(
      'RSS and its high-water mark (VmRSS / VmHWM from /proc/PID/status), the V8 heap in use and the bytes held in ' +
        'ArrayBuffers (our slabs are one SharedArrayBuffer reserved up front: only the pages touched count in RSS). ' +
        '"RSS per key" is (RSS at N − RSS idle) ÷ N.',
      '',
    );
    const memoryRows: string[][] = [];
    for (const kind of c.servers) {
      const idle = http.idleMemory[kind];
      if (idle) memoryRows.push(['0 (idle)', kind, mib(idle.rssKiB), mib(idle.hwmKiB), mibBytes(idle.heapUsedBytes), mibBytes(idle.arrayBuffersBytes), '']);
    }
    for (const row of summary.memory) {
      memoryRows.push([
        keysLabel(row.keys),
        row.server,
        mib(row.memory.rssKiB),
        mib(row.memory.hwmKiB),
        mibBytes(row.memory.heapUsedBytes),
        mibBytes(row.memory.arrayBuffersBytes),
        perKeyBytes(row.memory, http.idleMemory[row.server], row.keys),
      ]);
    }
    const redisRuns = results.redis ?? [];
    if (redisRuns[0]) {
      const idle = redisRuns[0].idleMemory;
      memoryRows.push(['0 (idle)', 'redis', mib(idle.rssKiB), mib(idle.hwmKiB), '', '', '']);
    }
    for (const r of redisRuns) {
      memoryRows.push([keysLabel(r.keys), 'redis', mib(r.memory.rssKiB), mib(r.memory.hwmKiB), '', '', perKeyBytes(r.memory, r.idleMemory, r.keys)]);
    }
    out.push(table(['keys', 'server', 'RSS MiB', 'peak RSS MiB', 'V8 heap MiB', 'ArrayBuffers MiB', 'RSS per key (B)'], memoryRows), '');
    if (redisRuns.length) {
      out.push(
        `redis's own count of its data (used_memory): ${redisRuns.map((r) => `${mibBytes(r.memory.usedMemoryBytes)} MiB at ${keysLabel(r.keys)}`).join(', ')}.`,
        '',
      );
    }
  }

  if (results.redis?.length) {
    const first = results.redis[0]!;
    out.push('## Native reference: redis-server + redis-benchmark', '');
    out.push(
      `redis ${first.version}, persistence off, filled with exactly N keys; redis-benchmark with ${first.clients} clients, ` +
        `pipeline ${first.pipeline}, ${first.valueBytes}-byte values, ${formatInt(first.requestsPerTest)} requests per test, keys drawn from the N filled ones. ` +
        'This is RESP over TCP, not HTTP: it shows where a C cache stands on this machine, not a like-for-like comparison.',
      '',
    );
    out.push(
      table(
        ['keys', 'test', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
        results.redis.flatMap((r) =>
          r.tests.map((t) => [keysLabel(r.keys), t.test, formatInt(t.requestsPerSecond), String(t.latencyMs.p50), String(t.latencyMs.p95), String(t.latencyMs.p99), String(t.latencyMs.max)]),
        ),
      ),
      '',
    );
  }

  if (results.micro) {
    const micro = results.micro;
    out.push('## Microbenchmarks (in-process, benchmark.js)', '');
    out.push(
      `${formatInt(micro.keys)} keys, ${micro.valueBytes}-byte string values, ops/s ± relative margin of error (95%). ` +
        'The Map has no recency order (a floor, not a competitor). The last column is slabcache ÷ lru-cache, measured in the same process.',
      '',
    );
    const phases = [...new Set(micro.results.map((r) => r.phase))];
    const impls = [...new Set(micro.results.map((r) => r.impl))];
    out.push(
      table(
        ['phase', ...impls, 'slabcache ÷ lru-cache'],
        phases.map((phase) => {
          const at = (impl: string) => micro.results.find((r) => r.phase === phase && r.impl === impl);
          const ours = at('slabcache');
          const theirs = at('lru-cache');
          return [
            phase,
            ...impls.map((impl) => {
              const r = at(impl);
              return r ? `${formatInt(r.opsPerSecond)} ± ${r.rmePercent.toFixed(1)}%` : 'n/a';
            }),
            ours && theirs ? `${(ours.opsPerSecond / theirs.opsPerSecond).toFixed(2)}×` : 'n/a',
          ];
        }),
      ),
      '',
    );
  }

  if (charts.length) {
    out.push('## Charts', '');
    for (const chart of charts) out.push(`![${chart.title}](${chart.file})`, '');
  }

  if (results.notes.length) {
    out.push('## Notes', '');
    for (const note of results.notes) out.push(`- ${note}`);
    out.push('');
  }
  return out.join('\n');
}
