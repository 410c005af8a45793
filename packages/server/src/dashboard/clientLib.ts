/**
 * The dashboard page's pure helpers, as browser JavaScript source: turning
 * two /stats replies into rates, ratios and windowed latency percentiles, and
 * formatting numbers. No DOM here, so a unit test can run this text in a
 * `node:vm` context and check it against the server's own functions
 * (test/dashboard-client.test.ts).
 *
 * It is a string, not compiled TypeScript: the page must be one static
 * document with no build step and no loader, and a function's toString() is
 * not reliable under tsx/jest transforms. Keep it ES2017, no template
 * literals (this file wraps it in one).
 *
 * It defines one global, `SlabcacheDashboardLib`.
 */

export const CLIENT_LIB = String.raw`
var SlabcacheDashboardLib = (function () {
  'use strict';

  /** Routes that watch the server rather than use it: left out of the data-path latency. */
  var OBSERVING = { '/stats': 1, '/metrics': 1, '/health': 1, '/dashboard': 1 };

  /**
   * The q-quantile of a histogram as Prometheus's histogram_quantile() estimates it
   * (the server's src/histogram.ts, kept equal by a test). counts: one per bucket,
   * not cumulative, the last for +Inf. Null when empty.
   */
  function quantile(q, bounds, counts) {
    var total = 0, i;
    for (i = 0; i < counts.length; i++) total += counts[i];
    if (total <= 0) return null;
    var rank = Math.min(1, Math.max(0, q)) * total;
    var below = 0;
    for (i = 0; i < bounds.length; i++) {
      var count = counts[i];
      if (count > 0 && below + count >= rank) {
        var lower = i === 0 ? 0 : bounds[i - 1];
        return lower + (bounds[i] - lower) * ((rank - below) / count);
      }
      below += count;
    }
    return bounds.length > 0 ? bounds[bounds.length - 1] : null;
  }

  function routeKey(r) { return r.method + ' ' + r.route; }

  function byKey(routes) {
    var map = {};
    (routes || []).forEach(function (r) { map[routeKey(r)] = r; });
    return map;
  }

  /** True when cur cannot follow prev: another process, or counters that went down. */
  function restarted(prev, cur) {
    return prev.process.pid !== cur.process.pid ||
      cur.engine.get_hits < prev.engine.get_hits || cur.engine.get_misses < prev.engine.get_misses;
  }

  /**
   * What the page shows for one poll. prev may be null (first poll, or after a restart):
   * rates are then null ("no data yet"), totals are always there. seconds: time between
   * the two replies.
   */
  function derive(prev, cur, seconds) {
    var e = cur.engine;
    var lookups = e.get_hits + e.get_misses;
    var usable = prev !== null && seconds > 0 && !restarted(prev, cur);
    var per = function (now, before) { return usable ? Math.max(0, now - before) / seconds : null; };
    var p = usable ? prev : null;
    var http = cur.http || { latency_bounds_ms: [], routes: [] };
    var prevRoutes = p && p.http ? byKey(p.http.routes) : {};

    var hitsPerSecond = per(e.get_hits, p && p.engine.get_hits);
    var missesPerSecond = per(e.get_misses, p && p.engine.get_misses);
    var windowLookups = usable ? hitsPerSecond + missesPerSecond : 0;

    var requests = [];
    var windowBuckets = http.latency_bounds_ms.map(function () { return 0; }).concat([0]);
    var requestsPerSecond = usable ? 0 : null;
    var dataRequests = 0;
    http.routes.forEach(function (r) {
      var before = prevRoutes[routeKey(r)];
      Object.keys(r.statuses).sort().forEach(function (status) {
        var was = before && before.statuses[status] ? before.statuses[status] : 0;
        var rate = per(r.statuses[status], was);
        if (usable) requestsPerSecond += rate;
        requests.push({ route: r.route, method: r.method, status: status, total: r.statuses[status], perSecond: rate });
      });
      if (!OBSERVING[r.route]) {
        dataRequests += r.requests;
        r.latency.buckets.forEach(function (n, b) {
          windowBuckets[b] += usable ? Math.max(0, n - (before ? before.latency.buckets[b] : 0)) : 0;
        });
      }
    });

    var evictions = e.evictions_by_cause || { keys: 0, bytes: 0, size: 0 };
    var prevEvictions = p ? (p.engine.evictions_by_cause || { keys: 0, bytes: 0, size: 0 }) : null;
    var prevThreads = {};
    if (p) (p.threads || []).forEach(function (t) { prevThreads[t.id] = t.requests; });

    return {
      hits: e.get_hits,
      misses: e.get_misses,
      hitsPerSecond: hitsPerSecond,
      missesPerSecond: missesPerSecond,
      hitRatio: lookups > 0 ? e.get_hits / lookups : null,
      hitRatioWindow: windowLookups > 0 ? hitsPerSecond / windowLookups : null,
      requestsPerSecond: requestsPerSecond,
      requests: requests,
      latencyWindow: {
        p50: quantile(0.5, http.latency_bounds_ms, windowBuckets),
        p99: quantile(0.99, http.latency_bounds_ms, windowBuckets),
      },
      dataRequests: dataRequests,
      evictions: { keys: evictions.keys, bytes: evictions.bytes, size: evictions.size },
      evictionsPerSecond: {
        keys: per(evictions.keys, prevEvictions && prevEvictions.keys),
        bytes: per(evictions.bytes, prevEvictions && prevEvictions.bytes),
        size: per(evictions.size, prevEvictions && prevEvictions.size),
      },
      threads: (cur.threads || []).map(function (t) {
        return { id: t.id, requests: t.requests, perSecond: per(t.requests, prevThreads[t.id] || 0) };
      }),
      classes: (e.classes || []).filter(function (c) { return c.total_pages > 0; }).map(function (c) {
        return {
          chunkSize: c.chunk_size,
          slabBytes: c.total_pages * e.page_size,
          usedBytes: c.used_chunks * c.chunk_size,
          requestedBytes: c.mem_requested,
          items: c.used_chunks,
          evictions: c.evictions,
        };
      }),
    };
  }

  /* ---- formatting ---- */

  function integer(n) {
    return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  }

  function bytes(n) {
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var u = 0;
    while (n >= 1024 && u < units.length - 1) { n /= 1024; u++; }
    return (u === 0 ? String(Math.round(n)) : n.toFixed(n < 10 ? 2 : 1)) + ' ' + units[u];
  }

  /** A rate per second: null is "no data yet". */
  function rate(n) {
    if (n === null || n === undefined) return '\u2013';
    return n >= 100 ? integer(n) : n.toFixed(n >= 10 ? 1 : 2);
  }

  function percent(fraction) {
    return fraction === null || fraction === undefined ? '\u2013' : (fraction * 100).toFixed(1) + ' %';
  }

  function ms(n) {
    if (n === null || n === undefined) return '\u2013';
    return (n >= 100 ? Math.round(n) : n >= 1 ? n.toFixed(2) : n.toFixed(3)) + ' ms';
  }

  function duration(seconds) {
    var s = Math.max(0, Math.round(seconds));
    var d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
    if (d > 0) return d + ' d ' + h + ' h';
    if (h > 0) return h + ' h ' + m + ' min';
    if (m > 0) return s % 60 === 0 ? m + ' min' : m + ' min ' + (s % 60) + ' s';
    return s + ' s';
  }

  /** An axis top at least max: 1, 2 or 5 times a power of ten. */
  function niceMax(max) {
    if (!(max > 0)) return 1;
    var power = Math.pow(10, Math.floor(Math.log10(max)));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * power >= max) return steps[i] * power;
    return 10 * power;
  }

  /** Reads token=… and interval=… from a URL fragment such as "#token=abc&interval=2". */
  function parseFragment(hash) {
    var out = { token: null, interval: null };
    String(hash || '').replace(/^#/, '').split('&').forEach(function (part) {
      var at = part.indexOf('=');
      if (at < 0) return;
      var name = part.slice(0, at);
      var value;
      try { value = decodeURIComponent(part.slice(at + 1)); } catch (err) { return; }
      if (name === 'token' && value !== '') out.token = value;
      if (name === 'interval' && /^\d+(\.\d+)?$/.test(value)) out.interval = Math.min(60, Math.max(0.5, Number(value)));
    });
    return out;
  }

  /**
   * What to say when /stats answers an error: the status, and the message of the
   * server's JSON error shape when there is one (403 protected mode, 429, ...).
   */
  function refusal(status, text) {
    var message = '/stats answered ' + status;
    try {
      var error = JSON.parse(text).error;
      if (error && typeof error.message === 'string') message += ': ' + error.message;
    } catch (err) { /* not JSON: the status says it all */ }
    return message;
  }

  return {
    quantile: quantile,
    refusal: refusal,
    derive: derive,
    format: { integer: integer, bytes: bytes, rate: rate, percent: percent, ms: ms, duration: duration },
    niceMax: niceMax,
    parseFragment: parseFragment,
  };
})();
`;
