/**
 * GET /dashboard in a real browser (headless Debian chromium, playwright-core)
 * against a real server with two threads and snapshots on: the page must show
 * live numbers that follow the traffic and equal what /stats says, send the
 * bearer token it was given, ask for one when a real AUTH_TOKEN server answers
 * 401, and talk to no host but the server. Saves a screenshot to artifacts/dashboard.png (CI keeps it).
 *
 * Every wait is for a condition in the page (waitForFunction); the timeouts are
 * safety bounds only.
 */

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { Page, Request as BrowserRequest } from 'playwright-core';

import { chromiumAvailable, launchChromium, type Browser } from './support/browser';
import { startTestServer, type TestServer } from './support/server';

/** The page's document, inside functions that Playwright runs in the browser. */
declare const document: {
  querySelector(selector: string): { getAttribute(name: string): string | null; textContent: string | null } | null;
  querySelectorAll(selector: string): { length: number };
  body: { dataset: Record<string, string | undefined> };
};
declare const sessionStorage: { getItem(key: string): string | null };

const SCREENSHOT = path.resolve(__dirname, '../../../artifacts/dashboard.png');
const BOUND_MS = 60_000;
const MAX_KEYS = 40;

const describeInBrowser = chromiumAvailable() ? describe : describe.skip;

interface Shown {
  readonly text: string;
  readonly value: string | null;
}

/** The text and data-value of the elements with these data-stat names, read in the page. */
async function shown(page: Page, names: readonly string[]): Promise<Record<string, Shown | null>> {
  return page.evaluate((wanted: readonly string[]) => {
    const out: Record<string, Shown | null> = {};
    for (const name of wanted) {
      const el = document.querySelector(`[data-stat="${name}"]`);
      out[name] = el ? { text: el.textContent ?? '', value: el.getAttribute('data-value') } : null;
    }
    return out;
  }, names);
}

/** Waits until every named stat's data-value in the page equals the given value. */
async function waitForValues(page: Page, expected: Record<string, string | number>): Promise<void> {
  await page.waitForFunction(
    (want: Record<string, string | number>) =>
      Object.entries(want).every(([name, value]) => {
        const el = document.querySelector(`[data-stat="${name}"]`);
        return el !== null && el.getAttribute('data-value') === String(value);
      }),
    expected,
    { timeout: BOUND_MS, polling: 100 },
  );
}

/**
 * Waits until the page's <body data-state> is `state` and it has polled /stats
 * `polls` times. (Predicates here are functions: the page's CSP forbids the
 * eval that Playwright needs for a string predicate.)
 */
async function waitForState(page: Page, state: string, polls = 1): Promise<void> {
  await page.waitForFunction(
    ([s, n]: [string, number]) => document.body.dataset['state'] === s && Number(document.body.dataset['polls']) >= n,
    [state, polls] as [string, number],
    { timeout: BOUND_MS, polling: 50 },
  );
}

interface StatsReply {
  engine: { get_hits: number; get_misses: number; curr_items: number; bytes: number; payload_bytes: number; slab_bytes: number; evictions_by_cause: { keys: number; bytes: number; size: number } };
  http: { routes: Array<{ route: string; method: string; statuses: Record<string, number>; latency: { p50_ms: number; p99_ms: number } }> };
  threads: Array<{ id: number; requests: number }>;
  snapshot: { path: string } | null;
  process: { pid: number };
}

describeInBrowser('/dashboard in headless Chromium', () => {
  let t: TestServer;
  let browser: Browser;
  let snapshotDir: string;
  const requested: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    snapshotDir = mkdtempSync(path.join(tmpdir(), 'slabcache-dashboard-'));
    t = await startTestServer({ maxKeys: MAX_KEYS, threads: 2, snapshotPath: path.join(snapshotDir, 'cache.snap') });
    browser = await launchChromium();
    // Every request any page of this browser makes, including ones a page could start behind our back.
    browser.context.on('request', (r: BrowserRequest) => requested.push(r.url()));
    browser.context.on('weberror', (e) => pageErrors.push(e.error().message));
  }, BOUND_MS);

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
    if (snapshotDir) rmSync(snapshotDir, { recursive: true, force: true });
  }, BOUND_MS);

  it('shows live numbers that follow the traffic and equal /stats', async () => {
    const page = await browser.context.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    await page.goto(`${t.base}/dashboard`);
    await waitForState(page, 'live');
    const before = await shown(page, ['engine.get_hits', 'engine.curr_items', 'hits_per_second']);
    expect(before['engine.get_hits']?.text).toBe('0');
    expect(before['engine.curr_items']?.value).toBe('0');

    // Traffic runs until the page shows rates and latency for it (or a bound on requests is hit).
    let stop = false;
    const traffic = (async () => {
      for (let i = 0; i < 2.5 * MAX_KEYS; i++) await t.call('POST', '/put', { body: JSON.stringify({ key: `d${i}`, value: 'x'.repeat(i) }) });
      for (let i = 0; !stop && i < 20_000; i++) {
        await t.call('GET', `/get?key=d${2.5 * MAX_KEYS - 1 - (i % MAX_KEYS)}`); // held: a hit
        await t.call('GET', `/get?key=absent${i}`); // a miss
        if (i % 10 === 0) await t.call('POST', '/put', { body: '{"key":' }); // 400
      }
    })();
    try {
      await page.waitForFunction(
        (names: string[]) => names.every((name) => Number(document.querySelector(`[data-stat="${name}"]`)?.getAttribute('data-value')) > 0),
        ['hits_per_second', 'misses_per_second', 'requests_per_second', 'latency_p99'],
        { timeout: BOUND_MS, polling: 100 },
      );
    } finally {
      stop = true;
      await traffic;
    }

    // Traffic has stopped, so the engine numbers hold still: the page must come to show exactly these.
    const stats = (await t.call('GET', '/stats')).json as StatsReply;
    const getRoute = stats.http.routes.find((r) => r.method === 'GET' && r.route === '/get');
    const putRoute = stats.http.routes.find((r) => r.method === 'POST' && r.route === '/put');
    expect(stats.engine.evictions_by_cause.keys).toBe(1.5 * MAX_KEYS);
    const expected = {
      'engine.get_hits': stats.engine.get_hits,
      'engine.get_misses': stats.engine.get_misses,
      'engine.curr_items': stats.engine.curr_items,
      'engine.bytes': stats.engine.bytes,
      'engine.payload_bytes': stats.engine.payload_bytes,
      'engine.slab_bytes': stats.engine.slab_bytes,
      'engine.evictions_by_cause.keys': stats.engine.evictions_by_cause.keys,
      'engine.evictions_by_cause.bytes': stats.engine.evictions_by_cause.bytes,
      'engine.evictions_by_cause.size': stats.engine.evictions_by_cause.size,
      'requests GET /get 200': getRoute?.statuses['200'] ?? -1,
      'requests GET /get 404': getRoute?.statuses['404'] ?? -1,
      'requests POST /put 200': putRoute?.statuses['200'] ?? -1,
      'requests POST /put 400': putRoute?.statuses['400'] ?? -1,
      'p50_ms GET /get': getRoute?.latency.p50_ms ?? -1,
      'p99_ms GET /get': getRoute?.latency.p99_ms ?? -1,
      'process.pid': stats.process.pid,
      'snapshot.path': stats.snapshot?.path ?? '',
    };
    await waitForValues(page, expected);

    // What a person reads: integers with thousands separators, the limits beside the counts.
    const text = await shown(page, ['engine.get_hits', 'engine.get_misses', 'engine.curr_items', 'engine.payload_bytes', 'requests GET /get 404', 'snapshot.last_load']);
    const grouped = (n: number): string => n.toLocaleString('en-US');
    expect(text['engine.get_hits']?.text).toBe(grouped(stats.engine.get_hits));
    expect(text['engine.get_misses']?.text).toBe(grouped(stats.engine.get_misses));
    expect(text['engine.curr_items']?.text).toBe(`${MAX_KEYS} of ${MAX_KEYS} (MAX_KEYS) (100.0 %)`);
    expect(text['engine.payload_bytes']?.text).toMatch(/^[\d.,]+ [KMG]?i?B \(no MAX_SIZE\)$/);
    expect(text['requests GET /get 404']?.text).toBe(grouped(getRoute?.statuses['404'] ?? -1));
    expect(text['snapshot.last_load']?.text).toMatch(/^missing at /);
    expect(Number(text['engine.get_hits']?.value)).toBeGreaterThan(Number(before['engine.get_hits']?.value));

    // The charts drew lines, the bars name both threads and the slab classes.
    const drawn = await page.evaluate(() => ({
      hits: document.querySelectorAll('#chart-hits polyline').length,
      latency: document.querySelectorAll('#chart-latency polyline').length,
      threads: document.querySelector('#threads')?.getAttribute('aria-label'),
      classes: document.querySelector('#classes')?.getAttribute('aria-label'),
    }));
    expect(drawn.hits).toBeGreaterThan(0);
    expect(drawn.latency).toBeGreaterThan(0);
    expect(drawn.threads).toMatch(/^thread 0: .*; thread 1: /);
    expect(drawn.classes).toMatch(/B chunks: .* used by \d+ items/);

    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(consoleErrors).toEqual([]);
    await page.close();
  }, 3 * BOUND_MS);

  it('sends the token from #token=… as a bearer header and takes it out of the address bar', async () => {
    const page = await browser.context.newPage();
    const statsAuth: Array<string | undefined> = [];
    page.on('request', (r) => r.url().endsWith('/stats') && statsAuth.push(r.headers()['authorization']));
    await page.goto(`${t.base}/dashboard#token=s3cret`);
    await waitForState(page, 'live', 2);
    expect(page.url()).toBe(`${t.base}/dashboard`);
    expect(await page.evaluate(() => sessionStorage.getItem('slabcache.dashboard.token'))).toBe('s3cret');
    expect(statsAuth.length).toBeGreaterThanOrEqual(2);
    expect(new Set(statsAuth)).toEqual(new Set(['Bearer s3cret']));
    await page.close();
  }, 2 * BOUND_MS);

  it('the page itself holds no data: the same bytes before and after traffic', async () => {
    const first = await t.call('GET', '/dashboard');
    await t.call('POST', '/put', { body: JSON.stringify({ key: 'static-check', value: 'v' }) });
    await t.call('GET', '/get?key=static-check');
    const second = await t.call('GET', '/dashboard');
    expect(second.body.equals(first.body)).toBe(true);
  });

  it('made no request to any host but the server', () => {
    const origin = new URL(t.base).origin;
    expect(requested.filter((url) => url.endsWith('/dashboard')).length).toBeGreaterThan(0);
    expect(requested.filter((url) => url.endsWith('/stats')).length).toBeGreaterThan(0);
    expect(requested.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

/** A server with AUTH_TOKEN (issue 19): /stats answers 401 without the token, /dashboard stays open. */
describeInBrowser('/dashboard when /stats needs a token (AUTH_TOKEN)', () => {
  const TOKEN = 'typed-in-token';
  let t: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    t = await startTestServer({ authToken: TOKEN });
    browser = await launchChromium({ width: 1000, height: 800 });
  }, BOUND_MS);

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  }, BOUND_MS);

  it('asks for the token on a 401, then polls with the one typed in', async () => {
    const page = await browser.context.newPage();
    const stats: Array<{ authorization: string | undefined; status: number }> = [];
    page.on('response', (r) => r.url().endsWith('/stats') && stats.push({ authorization: r.request().headers()['authorization'], status: r.status() }));
    await page.goto(`${t.base}/dashboard`);
    await waitForState(page, 'auth', 0);
    const form = page.getByLabel('Bearer token');
    expect(await form.isVisible()).toBe(true);
    await form.fill(TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    await waitForState(page, 'live', 2);
    // The server itself refused the first poll, and accepted the ones that carried the token.
    expect(stats[0]).toEqual({ authorization: undefined, status: 401 });
    expect(stats.slice(1).length).toBeGreaterThanOrEqual(2);
    expect(new Set(stats.slice(1).map((s) => `${s.authorization} ${s.status}`))).toEqual(new Set([`Bearer ${TOKEN} 200`]));
    expect(await page.evaluate(() => sessionStorage.getItem('slabcache.dashboard.token'))).toBe(TOKEN);
    await page.close();
  }, 2 * BOUND_MS);

  it('forgets a token the server refuses and asks again', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${t.base}/dashboard#token=not-the-token`);
    await waitForState(page, 'auth', 0);
    expect(await page.evaluate(() => document.querySelector('#token-help')?.textContent)).toMatch(/refused that token/);
    expect(await page.evaluate(() => sessionStorage.getItem('slabcache.dashboard.token'))).toBeNull();
    await page.close();
  }, 2 * BOUND_MS);
});
