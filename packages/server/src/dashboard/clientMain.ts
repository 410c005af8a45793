/**
 * The dashboard page's script, as browser JavaScript source (see clientLib.ts
 * for why it is a string): it polls /stats, keeps the last few minutes of
 * derived numbers and draws them as plain SVG charts, tables and meters.
 *
 *   read token/interval from the URL fragment, keep the token in sessionStorage,
 *   and take the fragment out of the address bar;
 *   loop: fetch stats (relative URL, so a path prefix behind a proxy works),
 *         with "Authorization: Bearer <token>" when there is a token;
 *     401 -> show the token form and stop until a token is given;
 *     error -> say so (with the server's own message for 403 protected mode,
 *              429 and the like), retry with backoff;
 *     ok -> derive (clientLib), append to history, redraw; next poll after
 *           the interval (never two in flight); paused while the tab is hidden.
 *
 * Everything the server sends is written with textContent, never as HTML.
 * Charts tell series apart by dash pattern and a text legend, not only colour.
 * <body data-state="…" data-polls="N"> says where the page is (tests wait on it).
 */

export const CLIENT_MAIN = String.raw`
(function () {
  'use strict';
  var L = SlabcacheDashboardLib;
  var F = L.format;
  var SVG = 'http://www.w3.org/2000/svg';
  var TOKEN_KEY = 'slabcache.dashboard.token';
  var HISTORY_POINTS = 120;

  var fragment = L.parseFragment(location.hash);
  var intervalMs = (fragment.interval || 1) * 1000;
  if (fragment.token !== null) {
    try { sessionStorage.setItem(TOKEN_KEY, fragment.token); } catch (err) { /* storage off: token lives in memory */ }
  }
  var memoryToken = fragment.token;
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);

  var prev = null, prevAt = 0, polls = 0, failures = 0, timer = 0, inFlight = false, waitingForToken = false;
  var samples = [];

  function $(id) { return document.getElementById(id); }
  function token() {
    try { return sessionStorage.getItem(TOKEN_KEY) || memoryToken; } catch (err) { return memoryToken; }
  }
  function setToken(value) {
    memoryToken = value;
    try {
      if (value === null) sessionStorage.removeItem(TOKEN_KEY); else sessionStorage.setItem(TOKEN_KEY, value);
    } catch (err) { /* memory only */ }
    $('forget').hidden = value === null;
  }
  function el(tag, attrs, text) {
    var node = tag.indexOf('svg:') === 0 ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function stat(name, value, text) {
    var nodes = document.querySelectorAll('[data-stat="' + name + '"]');
    for (var i = 0; i < nodes.length; i++) {
      nodes[i].textContent = text;
      nodes[i].setAttribute('data-value', value === null || value === undefined ? '' : String(value));
    }
  }
  function setState(state, message) {
    document.body.setAttribute('data-state', state);
    $('status').textContent = message;
  }

  /* ---- charts ---- */

  var W = 420, H = 150, PAD_L = 62, PAD_R = 10, PAD_T = 10, PAD_B = 22;
  /** Series differ by dash pattern as well as by colour (classes s0..s3 in the page's style). */
  var DASHES = ['', '7 4', '2 3', '9 3 2 3'];

  /** A line chart over the sample history. series: [{label, value(sample), format}] */
  function LineChart(id, series, format) {
    var figure = $(id);
    this.series = series;
    this.format = format;
    this.title = figure.getAttribute('data-title');
    figure.appendChild(el('figcaption', {}, this.title));
    this.svg = el('svg:svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': this.title });
    figure.appendChild(this.svg);
    var legend = el('ul', { class: 'legend' });
    this.values = series.map(function (s, i) {
      var item = el('li');
      var swatch = el('svg:svg', { width: '28', height: '10', 'aria-hidden': 'true' });
      swatch.appendChild(el('svg:line', { x1: '0', y1: '5', x2: '28', y2: '5', class: 's' + i, 'stroke-width': '2.5', 'stroke-dasharray': DASHES[i] }));
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(' ' + s.label + ': '));
      var value = el('span', { 'data-series': s.label }, '\u2013');
      item.appendChild(value);
      legend.appendChild(item);
      return value;
    });
    figure.appendChild(legend);
  }
  LineChart.prototype.draw = function () {
    var svg = this.svg, series = this.series, format = this.format;
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var spanMs = HISTORY_POINTS * intervalMs;
    var end = samples.length ? samples[samples.length - 1].t : 0;
    var max = 0;
    series.forEach(function (s) {
      samples.forEach(function (sample) { var v = s.value(sample); if (v !== null && v > max) max = v; });
    });
    var top = L.niceMax(max);
    var x = function (t) { return PAD_L + (W - PAD_L - PAD_R) * (1 - (end - t) / spanMs); };
    var y = function (v) { return PAD_T + (H - PAD_T - PAD_B) * (1 - v / top); };
    [0, 0.5, 1].forEach(function (f) {
      svg.appendChild(el('svg:line', { x1: PAD_L, x2: W - PAD_R, y1: y(top * f), y2: y(top * f), class: 'grid' }));
      svg.appendChild(el('svg:text', { x: PAD_L - 6, y: y(top * f) + 4, 'text-anchor': 'end' }, format(top * f)));
    });
    svg.appendChild(el('svg:text', { x: PAD_L, y: H - 6 }, '\u2212' + F.duration(spanMs / 1000)));
    svg.appendChild(el('svg:text', { x: W - PAD_R, y: H - 6, 'text-anchor': 'end' }, 'now'));
    var described = [];
    var legendValues = this.values;
    series.forEach(function (s, i) {
      var points = [];
      var flush = function () {
        if (points.length > 1) {
          svg.appendChild(el('svg:polyline', { points: points.join(' '), fill: 'none', class: 's' + i, 'stroke-width': '2', 'stroke-dasharray': DASHES[i] }));
        }
        points = [];
      };
      samples.forEach(function (sample) {
        var v = s.value(sample);
        if (v === null || sample.t < end - spanMs) { flush(); return; }
        points.push(x(sample.t).toFixed(1) + ',' + y(v).toFixed(1));
      });
      flush();
      var latest = samples.length ? s.value(samples[samples.length - 1]) : null;
      var text = latest === null ? '\u2013' : format(latest);
      legendValues[i].textContent = text;
      described.push(s.label + ' ' + text);
    });
    svg.setAttribute('aria-label', this.title + ', latest: ' + described.join(', '));
  };

  /** Horizontal bars, each with its text label: rows [{label, value, text}] */
  function drawBars(id, rows, emptyText) {
    var svg = $(id);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var rowH = 24, height = Math.max(1, rows.length) * rowH + 4;
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + height);
    svg.setAttribute('height', String(height));
    if (rows.length === 0) {
      svg.appendChild(el('svg:text', { x: 4, y: 18 }, emptyText));
      svg.setAttribute('aria-label', emptyText);
      return;
    }
    var max = 0;
    rows.forEach(function (r) { if (r.value > max) max = r.value; });
    var labelW = 96, barW = W - labelW - 4;
    rows.forEach(function (r, i) {
      var top = i * rowH + 2;
      svg.appendChild(el('svg:text', { x: labelW - 6, y: top + 16, 'text-anchor': 'end' }, r.label));
      var width = max > 0 ? Math.max(1, barW * r.value / max) : 1;
      svg.appendChild(el('svg:rect', { x: labelW, y: top + 3, width: width.toFixed(1), height: rowH - 8, class: 'bar' }));
      if (r.inner !== undefined && max > 0) {
        svg.appendChild(el('svg:rect', { x: labelW, y: top + 8, width: Math.max(0, barW * r.inner / max).toFixed(1), height: rowH - 18, class: 'bar-inner' }));
      }
      svg.appendChild(el('svg:text', { x: labelW + 6, y: top + 16, class: 'bar-text' }, r.text));
    });
    svg.setAttribute('aria-label', rows.map(function (r) { return r.label + ': ' + r.text; }).join('; '));
  }

  function fillTable(id, rows) {
    var body = $(id);
    while (body.firstChild) body.removeChild(body.firstChild);
    rows.forEach(function (cells) {
      var tr = el('tr');
      cells.forEach(function (cell) {
        var td = el('td', cell.attrs || {}, cell.text);
        if (cell.num) td.className = 'num';
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  function meter(name, value, limit, text) {
    var m = document.querySelector('meter[data-meter="' + name + '"]');
    m.max = limit > 0 ? limit : 1;
    m.value = value;
    stat(name, value, text + ' (' + F.percent(limit > 0 ? value / limit : null) + ')');
  }

  var charts = {
    hits: new LineChart('chart-hits', [
      { label: 'hits/s', value: function (s) { return s.v.hitsPerSecond; } },
      { label: 'misses/s', value: function (s) { return s.v.missesPerSecond; } },
    ], F.rate),
    ratio: new LineChart('chart-ratio', [
      { label: 'hit ratio', value: function (s) { return s.v.hitRatioWindow; } },
    ], function (v) { return F.percent(v); }),
    requests: new LineChart('chart-requests', [
      { label: '2xx/s', value: function (s) { return s.byClass['2']; } },
      { label: '4xx/s', value: function (s) { return s.byClass['4']; } },
      { label: '5xx/s', value: function (s) { return s.byClass['5']; } },
    ], F.rate),
    latency: new LineChart('chart-latency', [
      { label: 'p50', value: function (s) { return s.v.latencyWindow.p50; } },
      { label: 'p99', value: function (s) { return s.v.latencyWindow.p99; } },
    ], F.ms),
    evictions: new LineChart('chart-evictions', [
      { label: 'MAX_KEYS reached/s', value: function (s) { return s.v.evictionsPerSecond.keys; } },
      { label: 'memory full/s', value: function (s) { return s.v.evictionsPerSecond.bytes; } },
      { label: 'MAX_SIZE reached/s', value: function (s) { return s.v.evictionsPerSecond.size; } },
    ], F.rate),
  };

  /* ---- one poll's numbers onto the page ---- */

  function render(stats, v) {
    var e = stats.engine;
    stat('engine.get_hits', e.get_hits, F.integer(e.get_hits));
    stat('engine.get_misses', e.get_misses, F.integer(e.get_misses));
    stat('hits_per_second', v.hitsPerSecond, F.rate(v.hitsPerSecond));
    stat('misses_per_second', v.missesPerSecond, F.rate(v.missesPerSecond));
    stat('hit_ratio', v.hitRatio, F.percent(v.hitRatio));
    stat('hit_ratio_window', v.hitRatioWindow, F.percent(v.hitRatioWindow));

    stat('requests_per_second', v.requestsPerSecond, F.rate(v.requestsPerSecond));
    fillTable('requests-body', v.requests.map(function (r) {
      var key = r.method + ' ' + r.route + ' ' + r.status;
      return [
        { text: r.method + ' ' + r.route },
        { text: r.status },
        { text: F.rate(r.perSecond), num: true, attrs: { 'data-stat': 'requests_per_second ' + key } },
        { text: F.integer(r.total), num: true, attrs: { 'data-stat': 'requests ' + key, 'data-value': String(r.total) } },
      ];
    }));

    stat('latency_p50', v.latencyWindow.p50, F.ms(v.latencyWindow.p50));
    stat('latency_p99', v.latencyWindow.p99, F.ms(v.latencyWindow.p99));
    var http = stats.http || { routes: [] };
    fillTable('latency-body', http.routes.map(function (r) {
      var key = r.method + ' ' + r.route;
      return [
        { text: key },
        { text: F.integer(r.requests), num: true },
        { text: F.ms(r.latency.p50_ms), num: true, attrs: { 'data-stat': 'p50_ms ' + key, 'data-value': String(r.latency.p50_ms) } },
        { text: F.ms(r.latency.p99_ms), num: true, attrs: { 'data-stat': 'p99_ms ' + key, 'data-value': String(r.latency.p99_ms) } },
      ];
    }));

    meter('engine.curr_items', e.curr_items, e.limit_maxkeys, F.integer(e.curr_items) + ' of ' + F.integer(e.limit_maxkeys) + ' (MAX_KEYS)');
    meter('engine.bytes', e.bytes, e.limit_maxbytes, F.bytes(e.bytes) + ' of ' + F.bytes(e.limit_maxbytes) + ' (MAX_BYTES)');
    // Without MAX_SIZE there is nothing to fill: the number alone, no bar.
    document.querySelector('meter[data-meter="engine.payload_bytes"]').hidden = !(e.limit_maxsize > 0);
    if (e.limit_maxsize > 0) meter('engine.payload_bytes', e.payload_bytes, e.limit_maxsize, F.bytes(e.payload_bytes) + ' of ' + F.bytes(e.limit_maxsize) + ' (MAX_SIZE)');
    else stat('engine.payload_bytes', e.payload_bytes, F.bytes(e.payload_bytes) + ' (no MAX_SIZE)');
    meter('engine.slab_bytes', e.slab_bytes, e.limit_maxbytes, F.bytes(e.slab_bytes) + ' of ' + F.bytes(e.limit_maxbytes));

    drawBars('classes', v.classes.map(function (c) {
      return {
        label: F.bytes(c.chunkSize) + ' chunks',
        value: c.slabBytes,
        inner: c.usedBytes,
        text: F.bytes(c.slabBytes) + ' of pages, ' + F.bytes(c.usedBytes) + ' used by ' + F.integer(c.items) + ' items',
      };
    }), 'No slab pages assigned yet (the cache is empty).');

    stat('engine.evictions_by_cause.keys', v.evictions.keys, F.integer(v.evictions.keys));
    stat('engine.evictions_by_cause.bytes', v.evictions.bytes, F.integer(v.evictions.bytes));
    stat('engine.evictions_by_cause.size', v.evictions.size, F.integer(v.evictions.size));

    drawBars('threads', v.threads.map(function (t) {
      return { label: 'thread ' + t.id, value: t.perSecond || 0, text: F.rate(t.perSecond) + ' req/s, ' + F.integer(t.requests) + ' in all' };
    }), 'No thread numbers.');

    renderSnapshot(stats.snapshot);

    var p = stats.process;
    stat('process.uptime_seconds', p.uptime_seconds, F.duration(p.uptime_seconds));
    stat('process.rss_bytes', p.rss_bytes, F.bytes(p.rss_bytes));
    stat('process.heap_used_bytes', p.heap_used_bytes, F.bytes(p.heap_used_bytes));
    var loop = p.event_loop_delay;
    stat('process.event_loop_delay.p99_ms', loop ? loop.p99_ms : null, loop ? F.ms(loop.p99_ms) : '\u2013');
    stat('process.pid', p.pid, String(p.pid));

    Object.keys(charts).forEach(function (name) { charts[name].draw(); });
  }

  function operationText(op) {
    if (!op) return 'none yet';
    var text = op.result + ' at ' + new Date(op.at).toLocaleTimeString() + ', ' + F.ms(op.duration_ms) +
      ', ' + F.integer(op.entries) + ' entries, ' + F.bytes(op.bytes);
    return op.error ? text + ' (' + op.error + ')' : text;
  }

  function renderSnapshot(s) {
    $('snapshot-off').hidden = s !== null && s !== undefined;
    $('snapshot-on').hidden = !s;
    if (!s) return;
    stat('snapshot.path', s.path, s.path);
    stat('snapshot.interval_seconds', s.interval_seconds, s.interval_seconds > 0 ? 'every ' + F.duration(s.interval_seconds) : 'on shutdown only');
    stat('snapshot.saving', s.saving, s.saving ? 'saving now' : 'idle');
    stat('snapshot.saves_ok', s.saves_ok, F.integer(s.saves_ok));
    stat('snapshot.saves_failed', s.saves_failed, F.integer(s.saves_failed) +
      (s.consecutive_failures > 0 ? ' (' + s.consecutive_failures + ' in a row)' : ''));
    stat('snapshot.last_save', s.last_save ? s.last_save.result : null, operationText(s.last_save));
    stat('snapshot.last_load', s.last_load ? s.last_load.result : null, operationText(s.last_load));
  }

  /* ---- polling ---- */

  function onStats(stats) {
    var now = performance.now();
    var v = L.derive(prev, stats, prev ? (now - prevAt) / 1000 : 0);
    if (prev && v.hitsPerSecond === null) samples = []; // another process or a restart: start the charts over
    prev = stats;
    prevAt = now;
    var byClass = { '2': null, '4': null, '5': null };
    if (v.requestsPerSecond !== null) {
      byClass = { '2': 0, '4': 0, '5': 0 };
      v.requests.forEach(function (r) { var c = r.status.charAt(0); if (byClass[c] !== undefined) byClass[c] += r.perSecond; });
    }
    samples.push({ t: now, v: v, byClass: byClass });
    if (samples.length > HISTORY_POINTS + 1) samples.shift();
    render(stats, v);
    polls += 1;
    failures = 0;
    document.body.setAttribute('data-polls', String(polls));
    setState('live', 'Live: updated ' + new Date().toLocaleTimeString() + ', every ' + F.duration(intervalMs / 1000) +
      ' (server pid ' + stats.process.pid + ', up ' + F.duration(stats.process.uptime_seconds) + ')');
  }

  function askForToken(message) {
    waitingForToken = true;
    $('token-form').hidden = false;
    $('token-help').textContent = message;
    setState('auth', message);
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(poll, ms);
  }

  function poll() {
    if (inFlight || waitingForToken) return;
    if (document.hidden) { setState('paused', 'Paused while this tab is hidden.'); return; }
    inFlight = true;
    var headers = {};
    var t = token();
    if (t) headers.Authorization = 'Bearer ' + t;
    var controller = new AbortController();
    var abort = setTimeout(function () { controller.abort(); }, 10000);
    fetch('stats', { headers: headers, cache: 'no-store', credentials: 'same-origin', signal: controller.signal })
      .then(function (res) {
        if (res.status === 401) {
          if (t) setToken(null);
          askForToken(t ? 'The server refused that token. Enter the bearer token (AUTH_TOKEN) again.'
            : 'This server needs a bearer token (AUTH_TOKEN) to show its numbers. Enter it, or open the page as /dashboard#token=<token>.');
          return null;
        }
        if (!res.ok) return res.text().then(function (text) { throw new Error(L.refusal(res.status, text)); });
        return res.json();
      })
      .then(function (stats) {
        if (stats) { onStats(stats); schedule(intervalMs); }
      })
      .catch(function (err) {
        failures += 1;
        var wait = Math.min(30000, intervalMs * Math.pow(2, Math.min(failures, 5)));
        setState('error', 'Cannot read /stats: ' + (err && err.message ? err.message : String(err)) +
          '. Retrying in ' + F.duration(wait / 1000) + '.');
        schedule(wait);
      })
      .then(function () { clearTimeout(abort); inFlight = false; });
  }

  $('token-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var value = $('token').value.trim();
    if (value === '') return;
    setToken(value);
    $('token').value = '';
    $('token-form').hidden = true;
    waitingForToken = false;
    setState('starting', 'Connecting\u2026');
    poll();
  });
  $('forget').addEventListener('click', function () {
    setToken(null);
    setState(document.body.getAttribute('data-state'), 'Token forgotten; it is no longer sent.');
  });
  document.addEventListener('visibilitychange', function () { if (!document.hidden) poll(); });

  $('forget').hidden = !token();
  poll();
})();
`;
