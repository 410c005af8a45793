// `npx slabcache` in the project that installed the package: the bin starts the
// server, which answers put/get over HTTP and stops gracefully on SIGTERM.
//
// npx and the server run in a process group of their own, signalled as one, as a
// terminal signals a foreground job (npx does not pass a SIGTERM on to its child).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';

const args = ['--port', '0', '--host', '127.0.0.1', '--threads', '1', '--max-keys', '1000', '--max-bytes', String(16 * 2 ** 20)];
const child = spawn('npx', ['--no-install', 'slabcache', ...args], {
  stdio: ['ignore', 'pipe', 'pipe'],
  detached: true,
  env: { ...process.env, LOG_LEVEL: 'info' },
});
// 'close': npx has exited and so has every process holding its output (the server).
const closed = once(child, 'close');
const safety = setTimeout(() => process.kill(-child.pid, 'SIGKILL'), 60_000);
let output = '';
child.stderr.setEncoding('utf8').on('data', (chunk) => (output += chunk));
const port = await new Promise((resolve, reject) => {
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    output += chunk; // reading on after the listening line, so the server never blocks on a full pipe
    const line = output.split('\n').find((l) => l.includes('"msg":"listening"'));
    if (line) resolve(JSON.parse(line).port);
  });
  closed.then(() => reject(new Error(`exited before listening:\n${output}`)));
});
const base = `http://127.0.0.1:${port}`;
const put = await fetch(`${base}/put`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"key":"foo","value":"bar"}' });
assert.equal(put.status, 200);
assert.deepEqual(await (await fetch(`${base}/get?key=foo`)).json(), { key: 'foo', value: 'bar' });

process.kill(-child.pid, 'SIGTERM');
await closed;
clearTimeout(safety);
// Lines may reach the pipe out of order: compare the times the server logged them at.
const records = output
  .split('\n')
  .filter((line) => line.startsWith('{'))
  .map((line) => JSON.parse(line));
const shuttingDown = records.find((r) => r.msg === 'shutting down');
const stopped = records.find((r) => r.msg === 'stopped');
assert.ok(shuttingDown && stopped && shuttingDown.time <= stopped.time, `the server did not stop gracefully:\n${output}`);
console.log('server bin (npx slabcache): ok');
