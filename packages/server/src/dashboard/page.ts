/**
 * The /dashboard page: one HTML document with its style and script inline,
 * built once when the module loads. It holds no data: the script fetches
 * /stats itself (with the bearer token when one is given), so the page can be
 * served without authentication and cached like any static file.
 *
 * No charting library: the charts are a few lines of SVG drawn by
 * clientMain.ts, which keeps the page small (about 33 KB, 10 KB gzipped; a test
 * bounds it) and free of third-party code. The page makes no request but to
 * its own server, which the Content-Security-Policy in route.ts enforces.
 */

import { createHash } from 'node:crypto';

import { CLIENT_LIB } from './clientLib.js';
import { CLIENT_MAIN } from './clientMain.js';

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #57606a; --bg: #f6f8fa; --card: #fff; --line: #d0d7de; --bar: #9ab6e6; --bar-inner: #1f5fbf;
  --s0: #1f5fbf; --s1: #c2410c; --s2: #15803d; --s3: #7e22ce; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --muted: #9da7b3; --bg: #0d1117; --card: #161b22; --line: #30363d; --bar: #2d4f86; --bar-inner: #79a6f2;
    --s0: #79a6f2; --s1: #f59e57; --s2: #4ade80; --s3: #c084fc; }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; gap: 0.5rem 1.5rem; align-items: baseline; padding: 0.75rem 1rem; border-bottom: 1px solid var(--line); background: var(--card); }
h1 { font-size: 1.25rem; margin: 0; }
h2 { font-size: 1rem; margin: 0 0 0.5rem; }
#status { margin: 0; color: var(--muted); }
body[data-state="error"] #status, body[data-state="auth"] #status { color: #b42318; font-weight: 600; }
form { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; width: 100%; }
form p { margin: 0; width: 100%; }
input, button { font: inherit; padding: 0.25rem 0.5rem; }
main { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(440px, 100%), 1fr)); gap: 1rem; padding: 1rem; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 0.75rem 1rem; min-width: 0; }
.kpi { display: flex; flex-wrap: wrap; gap: 0.5rem 1.5rem; margin: 0 0 0.5rem; }
.kpi dt { color: var(--muted); font-size: 0.8rem; }
.kpi dd { margin: 0; font-size: 1.2rem; font-variant-numeric: tabular-nums; }
figure { margin: 0.5rem 0 0; }
figcaption { color: var(--muted); font-size: 0.85rem; }
svg { width: 100%; height: auto; display: block; font-size: 12px; fill: var(--fg); }
svg .grid { stroke: var(--line); }
svg .s0 { stroke: var(--s0); } svg .s1 { stroke: var(--s1); } svg .s2 { stroke: var(--s2); } svg .s3 { stroke: var(--s3); }
svg .bar { fill: var(--bar); }
svg .bar-inner { fill: var(--bar-inner); }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; padding: 0; margin: 0.25rem 0 0; font-size: 0.85rem; }
.legend svg { display: inline; width: 28px; vertical-align: middle; }
table { border-collapse: collapse; width: 100%; font-size: 0.85rem; margin-top: 0.5rem; }
caption { text-align: left; color: var(--muted); }
th, td { text-align: left; padding: 0.15rem 0.4rem; border-bottom: 1px solid var(--line); }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.scroll { max-height: 16rem; overflow: auto; }
.meters { display: grid; grid-template-columns: max-content 1fr; gap: 0.35rem 0.75rem; align-items: center; margin: 0; }
.meters dt { color: var(--muted); }
.meters dd { margin: 0; }
meter { width: 100%; height: 1rem; }
.snapshot { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 0.75rem; margin: 0; }
.snapshot dt { color: var(--muted); }
.snapshot dd { margin: 0; overflow-wrap: anywhere; }
`;

/** A KPI: its label and the element the script fills (`data-stat` names the number). */
const kpi = (label: string, statName: string): string => `<div><dt>${label}</dt><dd data-stat="${statName}">–</dd></div>`;

const BODY = `
<header>
  <h1>slabcache</h1>
  <p id="status" role="status">Connecting…</p>
  <button id="forget" type="button" hidden>Forget token</button>
  <form id="token-form" hidden>
    <p id="token-help"></p>
    <label for="token">Bearer token</label>
    <input id="token" type="password" autocomplete="off" spellcheck="false" required>
    <button type="submit">Use token</button>
  </form>
</header>
<main>
  <section aria-labelledby="h-hits">
    <h2 id="h-hits">Hits and misses</h2>
    <dl class="kpi">
      ${kpi('Hit ratio, last interval', 'hit_ratio_window')}
      ${kpi('Hit ratio since start', 'hit_ratio')}
      ${kpi('Hits/s', 'hits_per_second')}
      ${kpi('Misses/s', 'misses_per_second')}
      ${kpi('Hits', 'engine.get_hits')}
      ${kpi('Misses', 'engine.get_misses')}
    </dl>
    <figure id="chart-hits" data-title="Lookups per second"></figure>
    <figure id="chart-ratio" data-title="Hit ratio per interval"></figure>
  </section>

  <section aria-labelledby="h-requests">
    <h2 id="h-requests">Requests</h2>
    <dl class="kpi">${kpi('Requests/s, all routes', 'requests_per_second')}</dl>
    <figure id="chart-requests" data-title="Requests per second by status class"></figure>
    <div class="scroll">
      <table>
        <caption>By route and status since start</caption>
        <thead><tr><th scope="col">Route</th><th scope="col">Status</th><th scope="col" class="num">Req/s</th><th scope="col" class="num">Total</th></tr></thead>
        <tbody id="requests-body"></tbody>
      </table>
    </div>
  </section>

  <section aria-labelledby="h-latency">
    <h2 id="h-latency">Latency</h2>
    <dl class="kpi">
      ${kpi('p50, last interval', 'latency_p50')}
      ${kpi('p99, last interval', 'latency_p99')}
    </dl>
    <figure id="chart-latency" data-title="Data routes (not /stats, /metrics, /health, /dashboard): p50 and p99 per interval"></figure>
    <div class="scroll">
      <table>
        <caption>By route since start (server-side time, histogram estimate)</caption>
        <thead><tr><th scope="col">Route</th><th scope="col" class="num">Requests</th><th scope="col" class="num">p50</th><th scope="col" class="num">p99</th></tr></thead>
        <tbody id="latency-body"></tbody>
      </table>
    </div>
  </section>

  <section aria-labelledby="h-memory">
    <h2 id="h-memory">Items and memory against the limits</h2>
    <dl class="meters">
      <dt><label for="m-items">Items</label></dt>
      <dd><meter id="m-items" data-meter="engine.curr_items" min="0" max="1" value="0"></meter><div data-stat="engine.curr_items">–</div></dd>
      <dt><label for="m-bytes">Entry bytes</label></dt>
      <dd><meter id="m-bytes" data-meter="engine.bytes" min="0" max="1" value="0"></meter><div data-stat="engine.bytes">–</div></dd>
      <dt><label for="m-payload">Stored key + value bytes</label></dt>
      <dd><meter id="m-payload" data-meter="engine.payload_bytes" min="0" max="1" value="0"></meter><div data-stat="engine.payload_bytes">–</div></dd>
      <dt><label for="m-slabs">Slab pages</label></dt>
      <dd><meter id="m-slabs" data-meter="engine.slab_bytes" min="0" max="1" value="0"></meter><div data-stat="engine.slab_bytes">–</div></dd>
    </dl>
    <dl class="kpi">
      ${kpi('Process RSS', 'process.rss_bytes')}
      ${kpi('V8 heap used', 'process.heap_used_bytes')}
      ${kpi('Event-loop delay p99', 'process.event_loop_delay.p99_ms')}
      ${kpi('Uptime', 'process.uptime_seconds')}
      ${kpi('PID', 'process.pid')}
    </dl>
  </section>

  <section aria-labelledby="h-classes">
    <h2 id="h-classes">Slab memory by size class</h2>
    <p>Bar: pages the class owns; inner bar: bytes of its chunks in use.</p>
    <svg id="classes" role="img" aria-label="No data yet"></svg>
  </section>

  <section aria-labelledby="h-evictions">
    <h2 id="h-evictions">Evictions by cause</h2>
    <dl class="kpi">
      ${kpi('MAX_KEYS reached', 'engine.evictions_by_cause.keys')}
      ${kpi('Slab memory full', 'engine.evictions_by_cause.bytes')}
      ${kpi('MAX_SIZE reached', 'engine.evictions_by_cause.size')}
    </dl>
    <figure id="chart-evictions" data-title="Evictions per second"></figure>
  </section>

  <section aria-labelledby="h-threads">
    <h2 id="h-threads">Load per server thread</h2>
    <svg id="threads" role="img" aria-label="No data yet"></svg>
  </section>

  <section aria-labelledby="h-snapshot">
    <h2 id="h-snapshot">Snapshot</h2>
    <p id="snapshot-off" hidden>Snapshots are off (SNAPSHOT_PATH is not set).</p>
    <dl id="snapshot-on" class="snapshot" hidden>
      <dt>File</dt><dd data-stat="snapshot.path">–</dd>
      <dt>Saves</dt><dd data-stat="snapshot.interval_seconds">–</dd>
      <dt>Now</dt><dd data-stat="snapshot.saving">–</dd>
      <dt>Saved</dt><dd data-stat="snapshot.saves_ok">–</dd>
      <dt>Failed</dt><dd data-stat="snapshot.saves_failed">–</dd>
      <dt>Last save</dt><dd data-stat="snapshot.last_save">–</dd>
      <dt>Load at startup</dt><dd data-stat="snapshot.last_load">–</dd>
    </dl>
  </section>
</main>
`;

export const DASHBOARD_SCRIPT = CLIENT_LIB + CLIENT_MAIN;
export const DASHBOARD_STYLE = STYLE;

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>slabcache dashboard</title>
<link rel="icon" href="data:,">
<style>${DASHBOARD_STYLE}</style>
</head>
<body data-state="starting" data-polls="0">
${BODY}
<script>${DASHBOARD_SCRIPT}</script>
</body>
</html>
`;

/** The CSP source expression allowing exactly this inline text, e.g. `'sha256-…'`. */
export function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}
