// The client side of bench/batch.ts: @slabcache/client (its built ESM, as a user
// gets it) driving a server from `concurrency` concurrent loops for `seconds`,
// then one JSON line with what it did. Plain JavaScript run by `node`, so no
// TypeScript loader sits in the measured process. Stops by itself.
//
//   node bench/client-load.mjs <url> <get|getMany> <seconds> <concurrency> <pool> <batch>
import { SlabcacheClient } from '@slabcache/client';

const [url, mode, secondsText, concurrencyText, poolText, batchText] = process.argv.slice(2);
const seconds = Number(secondsText);
const concurrency = Number(concurrencyText);
const pool = Number(poolText);
const batch = Number(batchText);
if (!url || !['get', 'getMany'].includes(mode) || !(seconds > 0) || !(concurrency > 0) || !(pool > 0) || !(batch > 0)) {
  console.error('usage: client-load.mjs <url> <get|getMany> <seconds> <concurrency> <pool> <batch>');
  process.exit(2);
}

const client = new SlabcacheClient({ url, connections: concurrency, retries: 0, timeout: 10_000 });
const randomKey = () => `key-${Math.floor(Math.random() * pool)}`;
let requests = 0;
let keys = 0;
let misses = 0;
let failures = 0;
let firstError;

const started = performance.now();
const deadline = started + seconds * 1000;
const cpuBefore = process.cpuUsage();
async function loop() {
  while (performance.now() < deadline) {
    try {
      if (mode === 'get') {
        if ((await client.get(randomKey())) === undefined) misses++;
        keys++;
      } else {
        const values = await client.getMany(Array.from({ length: batch }, randomKey));
        for (const value of values) if (value === undefined) misses++;
        keys += batch;
      }
      requests++;
    } catch (error) {
      failures++;
      firstError ??= String(error);
    }
  }
}
await Promise.all(Array.from({ length: concurrency }, loop));
const elapsed = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
await client.close();
console.log(JSON.stringify({ mode, seconds: elapsed, requests, keys, misses, failures, firstError, cpuMicros: cpu.user + cpu.system }));
