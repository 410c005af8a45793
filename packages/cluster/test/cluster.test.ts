/**
 * Issue 16: three nodes behind the real HAProxy router behave as one cache.
 *
 * One scenario, step by step (each step needs the state the previous one left):
 *   1. 3,000 keys written through the router with the seed's /put, all read back;
 *   2. every node holds 20-47 % of them (each node's /stats, engine.curr_items);
 *   3. a node dies (SIGKILL): once the router reports it DOWN (asked through its
 *      runtime API, within 5 s), its keys answer 404 and the others 200, and no
 *      request sent after that answers 5xx;
 *   4. it is started again: once the router reports it UP, its keys are routed
 *      to it again (rewritten through the router, they land on it and only it);
 *   5. a fourth node joins (router reload): at most 40 % of the keys move, and
 *      every key that moved now lives on the new node;
 *   6. a node hangs (SIGSTOP): its keys answer 404 after the router's server
 *      timeout, never 5xx; resumed (SIGCONT), it is put back and serves its entries.
 * Ports 17330-17334.
 */

import type { LocalCluster } from '../src/cluster';
import type { ServerStat } from '../src/runtime-api';

import { destroyAgent, getKey, homesOf, mapConcurrent, putJson, startTestCluster } from './support/cluster';

const PORT = 17330;
const KEYS = Array.from({ length: 3000 }, (_, i) => `key-${i}`);
const valueOf = (key: string) => `value of ${key}`;
/** The issue's bound: a dead node's keys must be misses within 5 s. */
const DETECTION_BOUND_MS = 5000;

let cluster: LocalCluster;
let router: string;

beforeAll(async () => {
  cluster = await startTestCluster(3, PORT);
  router = cluster.router.url;
}, 120_000);

afterAll(async () => {
  destroyAgent();
  await cluster?.stop();
}, 60_000);

const statusOf = (stats: readonly ServerStat[], id: number) => stats.find((s) => s.server === `node${id}`)?.status;
const itemsOn = async (id: number) => (await cluster.node(id).stats()).engine.curr_items;
const readAll = (keys: readonly string[]) => mapConcurrent(keys, 16, (key) => getKey(router, key));
const countBy = (answers: readonly { status: number }[]) =>
  answers.reduce<Record<number, number>>((counts, a) => ({ ...counts, [a.status]: (counts[a.status] ?? 0) + 1 }), {});

/** Filled in by steps 2 and 5, used by the later steps. */
let homeOf: Map<string, number>;
let movedToNode4 = new Set<string>();
const VICTIM = 2;

test('1. writes 3,000 keys through the router with the seed\'s /put and reads every one back', async () => {
  const writes = await mapConcurrent(KEYS, 16, (key) => putJson(router, key, valueOf(key)));
  expect(countBy(writes)).toEqual({ 200: KEYS.length });
  const reads = await readAll(KEYS);
  expect(countBy(reads)).toEqual({ 200: KEYS.length });
  reads.forEach((answer, i) => expect(JSON.parse(answer.body)).toEqual({ key: KEYS[i], value: valueOf(KEYS[i] as string) }));
}, 60_000);

test('2. every node holds between 20 % and 47 % of the keys, and each key is on exactly one node', async () => {
  const items = await Promise.all([1, 2, 3].map(itemsOn));
  console.log(`shares of ${KEYS.length} keys: ${items.map((n, i) => `node${i + 1} ${n} (${((100 * n) / KEYS.length).toFixed(1)} %)`).join(', ')}`);
  expect(items.reduce((a, b) => a + b, 0)).toBe(KEYS.length);
  for (const count of items) {
    expect(count / KEYS.length).toBeGreaterThanOrEqual(0.2);
    expect(count / KEYS.length).toBeLessThanOrEqual(0.47);
  }
  const homes = await homesOf(cluster, KEYS);
  homeOf = new Map([...homes].map(([key, ids]) => [key, ids.length === 1 ? (ids[0] as number) : -1]));
  expect([...homeOf.values()].filter((id) => id === -1)).toEqual([]);
  for (const id of [1, 2, 3]) expect([...homeOf.values()].filter((home) => home === id)).toHaveLength(items[id - 1] as number);
}, 60_000);

test('3. a dead node\'s keys become misses (404) once the router takes it out; no 5xx after that', async () => {
  const victimKeys = KEYS.filter((key) => homeOf.get(key) === VICTIM);
  const otherKeys = KEYS.filter((key) => homeOf.get(key) !== VICTIM);

  // Readers run through the kill and the detection; each answer is stamped with whether the
  // router had already reported the node DOWN when the request was sent.
  let detected = false;
  let reading = true;
  const stamped: { afterDetection: boolean; status: number }[] = [];
  const readers = Array.from({ length: 4 }, async (_, r) => {
    for (let i = r; reading; i = (i + 4) % victimKeys.length) {
      const afterDetection = detected;
      const answer = await getKey(router, victimKeys[i] as string);
      stamped.push({ afterDetection, status: answer.status });
    }
  });

  const killedAt = Date.now();
  await cluster.stopNode(VICTIM, 'SIGKILL');
  await cluster.router.waitFor(`node${VICTIM} DOWN`, (stats) => statusOf(stats, VICTIM) === 'DOWN', DETECTION_BOUND_MS);
  detected = true;
  const detectedAfterMs = Date.now() - killedAt;

  const victimAnswers = await readAll(victimKeys);
  const otherAnswers = await readAll(otherKeys);
  reading = false;
  await Promise.all(readers);

  expect(countBy(victimAnswers)).toEqual({ 404: victimKeys.length });
  expect(countBy(otherAnswers)).toEqual({ 200: otherKeys.length });
  const after = stamped.filter((s) => s.afterDetection);
  expect(after.length).toBeGreaterThan(0);
  expect(after.filter((s) => s.status >= 500)).toEqual([]);
  expect(after.every((s) => s.status === 404)).toBe(true);
  const before = stamped.filter((s) => !s.afterDetection);
  // Not part of the verdict (the issue asks for no 5xx after detection); printed for the record.
  console.log(
    `node${VICTIM} (${victimKeys.length} keys) reported DOWN ${detectedAfterMs} ms after SIGKILL; ` +
      `reads of its keys before that: ${JSON.stringify(countBy(before))}, after: ${after.length}, all 404`,
  );
}, 60_000);

test('4. started again, the node gets its keys back: rewritten through the router, they land on it alone', async () => {
  await cluster.restartNode(VICTIM);
  await cluster.router.waitFor(`node${VICTIM} UP`, (stats) => statusOf(stats, VICTIM) === 'UP');
  const victimKeys = KEYS.filter((key) => homeOf.get(key) === VICTIM);
  const itemsBefore = await Promise.all([1, 3].map(itemsOn));

  expect(countBy(await readAll(victimKeys))).toEqual({ 404: victimKeys.length }); // it restarted empty
  expect(countBy(await mapConcurrent(victimKeys, 16, (key) => putJson(router, key, valueOf(key))))).toEqual({ 200: victimKeys.length });
  expect(await itemsOn(VICTIM)).toBe(victimKeys.length);
  expect(await Promise.all([1, 3].map(itemsOn))).toEqual(itemsBefore);
  expect(countBy(await readAll(KEYS))).toEqual({ 200: KEYS.length });
}, 60_000);

test('5. a fourth node takes at most 40 % of the keys, and every key that moved is on it', async () => {
  const added = await cluster.addNode();
  expect(added.id).toBe(4);
  const reads = await readAll(KEYS);
  const moved = KEYS.filter((_, i) => reads[i]?.status === 404);
  expect(reads.filter((a) => a.status !== 200 && a.status !== 404)).toEqual([]);
  console.log(`node4 joined: ${moved.length} of ${KEYS.length} keys moved (${((100 * moved.length) / KEYS.length).toFixed(1)} %)`);
  expect(moved.length / KEYS.length).toBeLessThanOrEqual(0.4);
  expect(moved.length).toBeGreaterThan(0);

  movedToNode4 = new Set(moved);
  expect(countBy(await mapConcurrent(moved, 16, (key) => putJson(router, key, valueOf(key))))).toEqual({ 200: moved.length });
  expect(await itemsOn(4)).toBe(moved.length);
  expect(countBy(await readAll(KEYS))).toEqual({ 200: KEYS.length });
}, 60_000);

test('6. a hung node (SIGSTOP) costs its keys one server timeout, then misses; resumed, it serves what it held', async () => {
  const PAUSED = 1;
  const pausedKeys = KEYS.filter((key) => homeOf.get(key) === PAUSED && !movedToNode4.has(key)).slice(0, 24);
  const pid = cluster.node(PAUSED).child.pid;
  process.kill(pid, 'SIGSTOP');
  try {
    // Sent before the checks notice: each waits for `timeout server` (3 s), then is sent to the next node: a miss.
    const during = await mapConcurrent(pausedKeys, 8, (key) => getKey(router, key));
    expect(countBy(during)).toEqual({ 404: pausedKeys.length });
    await cluster.router.waitFor(`node${PAUSED} DOWN`, (stats) => statusOf(stats, PAUSED) === 'DOWN', 15_000);
    expect(countBy(await readAll(pausedKeys))).toEqual({ 404: pausedKeys.length });
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  await cluster.router.waitFor(`node${PAUSED} UP`, (stats) => statusOf(stats, PAUSED) === 'UP', 15_000);
  // It kept its entries while it was out: they are served again (see docs/cluster.md on what that means for freshness).
  const after = await readAll(pausedKeys);
  expect(countBy(after)).toEqual({ 200: pausedKeys.length });
  after.forEach((answer, i) => expect(JSON.parse(answer.body)).toEqual({ key: pausedKeys[i], value: valueOf(pausedKeys[i] as string) }));
}, 60_000);
