/**
 * The CLI as a user meets it: --help, refusing bad settings with a clear
 * message and exit status 2, refusing the JS uWS fallback and a machine where
 * no uWS build loads (exit 1), and the seed's curl commands against the
 * running process.
 */

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { SETTINGS } from '../src/index';

import { spawnCli } from './support/cli';
import { UWS_BUILD } from './support/uws';

const run = promisify(execFile);

it('--help lists every setting with its flag, env variable and default, and exits 0', async () => {
  const cli = spawnCli(['--help']);
  expect(await cli.exited()).toBe(0);
  const help = cli.logs.map((l) => l['raw'] ?? '').join('\n');
  for (const setting of SETTINGS) {
    expect(help).toContain(setting.flag);
    expect(help).toContain(`env ${setting.env}, default ${JSON.stringify(setting.defaultValue)}`);
  }
  expect(help).toContain('PORT, default 7171');
  expect(help).toContain('MAX_KEYS, default 5000000');
  expect(help).toContain('MAX_BYTES, default 1610612736');
});

it.each([
  [['--port', '70000'], {}, /invalid --port="70000": must be an integer from 0 to 65535/],
  [[], { MAX_KEYS: 'lots' }, /invalid MAX_KEYS="lots": must be an integer/],
  [[], { LOG_LEVEL: 'loud' }, /invalid LOG_LEVEL="loud": must be one of fatal, error/],
  [['--max-value-bytes=-1'], {}, /invalid --max-value-bytes="-1"/],
  [['--bogus'], {}, /unknown argument "--bogus"/],
  [[], { MAX_BYTES: '4096' }, /cache cannot be built .*maxBytes/],
  [[], { MAX_SIZE: '1000' }, /cache cannot be built .*maxSize option \(1000\) must be at least maxKeyBytes \+ maxValueBytes/],
  [[], { MAX_SIZE: '2000000000' }, /cache cannot be built .*maxSize option \(2000000000\) is above maxBytes/],
])('refuses bad settings %j %j with a message and exit status 2', async (args, env, message) => {
  const cli = spawnCli(args, env);
  expect(await cli.exited()).toBe(2);
  expect(cli.stderr()).toMatch(message);
});

it('refuses to start on the uWebSockets.js JS fallback (exit 1)', async () => {
  const cli = spawnCli([], { UWS_USE_FALLBACK: '1' });
  expect(await cli.exited()).toBe(1);
  expect(cli.stderr()).toMatch(/cannot start: UWS_USE_FALLBACK is set: slabcache never runs on the slow uWebSockets.js JS fallback/);
});

// The uWS build that cannot load on this machine: 20.30 has no binary past Node 20, 20.57 needs glibc >= 2.38.
const glibc = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime ?? '';
const [glibcMajor = 0, glibcMinor = 0] = glibc.split('.').map(Number);
const unloadable = Number(process.versions.node.split('.')[0]) > 20 ? '20.30' : glibcMajor * 1000 + glibcMinor < 2038 ? '20.57' : undefined;
const itWithUnloadableBuild = unloadable ? it : it.skip;

itWithUnloadableBuild(`when no uWS build loads (UWS_BUILD=${unloadable}), exits 1 naming Node, glibc, each build's reason and what to install`, async () => {
  const cli = spawnCli([], { UWS_BUILD: unloadable as string });
  expect(await cli.exited()).toBe(1);
  const stderr = cli.stderr();
  expect(stderr).toContain(`slabcache-server: cannot start: no uWebSockets.js build loads on Node ${process.version} (ABI ${process.versions.modules})`);
  expect(stderr).toContain(`glibc ${glibc}`);
  expect(stderr).toContain(`uWS ${unloadable as string} (`);
  expect(stderr).toMatch(unloadable === '20.30' ? /no binary for linux-x64 ABI \d+/ : /GLIBC_2\.38' not found/);
  expect(stderr).toContain('Run Node 22 or 24 on glibc >= 2.38');
  expect(cli.logs.some((l) => l['msg'] === 'listening')).toBe(false);
});

it('refuses an unknown UWS_BUILD (exit 1)', async () => {
  const cli = spawnCli([], { UWS_BUILD: '19.0' });
  expect(await cli.exited()).toBe(1);
  expect(cli.stderr()).toContain('UWS_BUILD=19.0 is not a uWebSockets.js build this package has; use one of 20.57, 20.30');
});

it(`names Node and the uWS build (${UWS_BUILD}) in the listening line, and on 20.30 warns what that build leaves unanswered`, async () => {
  const cli = spawnCli([]);
  try {
    await cli.listening();
    const listening = cli.logs.find((l) => l['msg'] === 'listening') as Record<string, unknown>;
    expect(listening['node']).toBe(process.version);
    expect(String(listening['uws'])).toMatch(new RegExp(`^${UWS_BUILD.replace('.', '\\.')} \\(`));
    expect(String(listening['uwsBinary'])).toMatch(/uws_linux_x64_\d+\.node$/);
    const warning = cli.logs.find((l) => typeof l['msg'] === 'string' && l['msg'].startsWith('uWS 20.30 closes connections'));
    expect(warning !== undefined).toBe(UWS_BUILD === '20.30');
  } finally {
    cli.child.kill('SIGTERM');
    expect(await cli.exited()).toBe(0);
  }
});

// curl is part of the documented test setup (README quick start, .ci/run).
const curlPath = '/usr/bin/curl';

it("runs the seed README's curl commands verbatim (port aside) against the CLI", async () => {
  const cli = spawnCli([]);
  try {
    const port = await cli.listening();
    const put = await run(curlPath, ['-s', '-X', 'POST', `http://localhost:${port}/put`, '-H', 'Content-Type: application/json', '-d', '{"key":"foo","value":"bar"}']);
    expect(JSON.parse(put.stdout)).toEqual({ ok: true });
    const get = await run(curlPath, ['-s', `http://localhost:${port}/get?key=foo`]);
    expect(JSON.parse(get.stdout)).toEqual({ key: 'foo', value: 'bar' });
  } finally {
    cli.child.kill('SIGTERM');
    expect(await cli.exited()).toBe(0);
  }
});
