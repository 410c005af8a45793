/**
 * Issue 19: the safe default. A server with no AUTH_TOKEN that listens on an
 * address other machines can reach answers only loopback clients (protected
 * mode, after Redis); PROTECTED_MODE=no or a token changes that.
 *
 * The decision is first checked on its own (address forms as uWS writes them,
 * which HOST values count as loopback). Then for real, from a non-loopback
 * source address: the test creates two network namespaces joined by a veth
 * pair (192.0.2.1 and fd19::1 for the server, 192.0.2.2 and fd19::2 for the
 * client; TEST-NET-1 and a ULA, which exist only inside those namespaces),
 * runs the real CLI in one with HOST=0.0.0.0 (or ::), and curl in the other
 * and on the server's own loopback. Every namespace and link it creates it
 * removes, and the last test checks that. That part needs root and iproute2
 * (`ip netns`); where they are missing (the Docker image's unprivileged test
 * stage) it is skipped and says why.
 */

import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

import type { Request, Response } from 'hyper-express';

import { resolveAccess } from '../src/auth/access';
import { AccessGate, type AuthFailureReason } from '../src/auth/gate';
import { isLoopbackAddress, isLoopbackHost, isLoopbackPeer } from '../src/auth/loopback';
import { PeerWatch } from '../src/auth/peerWatch';
import { parseCommandLine } from '../src/index';

import { spawnCli, type CliProcess } from './support/cli';

const run = promisify(execFile);
const CURL = '/usr/bin/curl';
const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((file) => existsSync(file));
const BOUND_MS = 60_000;

describe('which addresses are loopback', () => {
  it('reads IPv4, compressed IPv6, and IPv6 as uWS writes it (eight groups of four digits)', () => {
    const loopback = ['127.0.0.1', '127.10.20.30', '::1', '0:0:0:0:0:0:0:1', '0000:0000:0000:0000:0000:0000:0000:0001', '::ffff:127.0.0.1', '0000:0000:0000:0000:0000:ffff:7f00:0001', '::ffff:7f01:0203'];
    const remote = ['192.0.2.2', '10.0.0.1', '0.0.0.0', '128.0.0.1', 'fd19::2', '::', '::2', '0000:0000:0000:0000:0000:ffff:c000:0202', '::ffff:192.0.2.2', 'fe80::1', '1::1', '', 'localhost', 'not an address', '127.0.0.1.evil'];
    for (const address of loopback) expect([address, isLoopbackAddress(address)]).toEqual([address, true]);
    for (const address of remote) expect([address, isLoopbackAddress(address)]).toEqual([address, false]);
  });

  it('reads the binary form uWS gives on the request path (4 or 16 bytes)', () => {
    const v6 = (...tail: number[]) => new Uint8Array([...new Array<number>(16 - tail.length).fill(0), ...tail]).buffer;
    expect(isLoopbackPeer(new Uint8Array([127, 0, 0, 1]).buffer)).toBe(true);
    expect(isLoopbackPeer(new Uint8Array([127, 9, 9, 9]).buffer)).toBe(true);
    expect(isLoopbackPeer(new Uint8Array([192, 0, 2, 2]).buffer)).toBe(false);
    expect(isLoopbackPeer(v6(1))).toBe(true); // ::1
    expect(isLoopbackPeer(v6(0xff, 0xff, 127, 0, 0, 1))).toBe(true); // ::ffff:127.0.0.1
    expect(isLoopbackPeer(v6(0xff, 0xff, 192, 0, 2, 2))).toBe(false);
    expect(isLoopbackPeer(v6(2))).toBe(false);
    expect(isLoopbackPeer(v6())).toBe(false);
    expect(isLoopbackPeer(new Uint8Array([0xfd, 0x19, ...new Array<number>(13).fill(0), 1]).buffer)).toBe(false);
    expect(isLoopbackPeer(new ArrayBuffer(0))).toBe(false); // uWS gives no address for some sockets
  });

  it('decides protected mode from HOST: only a loopback bind is exempt', () => {
    const mode = (env: Record<string, string>) => resolveAccess(parseCommandLine([], env).config).protectedMode;
    expect(mode({})).toBe(true); // the default HOST is 0.0.0.0
    for (const host of ['0.0.0.0', '::', '192.0.2.1', 'example.com']) expect([host, mode({ HOST: host })]).toEqual([host, true]);
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', '[::1]', 'localhost']) {
      expect([host, isLoopbackHost(host), mode({ HOST: host })]).toEqual([host, true, false]);
    }
    expect(mode({ PROTECTED_MODE: 'no' })).toBe(false);
    expect(mode({ AUTH_TOKEN: 's3cret' })).toBe(false); // tokens protect instead
  });
});

describe('AccessGate in protected mode', () => {
  const counted: AuthFailureReason[] = [];
  const gate = new AccessGate(
    { tokens: [], metricsNeedToken: true, protectedMode: true, failureLimitPerMinute: 30, trustProxy: false },
    '0.0.0.0',
    (reason) => counted.push(reason),
  );
  const req = (ip: string, headers: Record<string, string> = {}) => ({ ip, headers }) as unknown as Request;
  /** A Response whose peer (uWS getRemoteAddress) is these bytes. */
  const res = (...bytes: number[]) => ({ raw: { getRemoteAddress: () => new Uint8Array(bytes).buffer } }) as unknown as Response;
  const LOOPBACK_V4 = res(127, 0, 0, 1);
  const MAPPED_LOOPBACK = res(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1);
  const REMOTE = res(192, 0, 2, 2);

  it('answers loopback clients, refuses others with 403 protected_mode, and leaves open routes alone', () => {
    const guard = gate.guardFor('write')!;
    expect(gate.guardFor('open')).toBeUndefined();
    expect(guard(req('127.0.0.1'), LOOPBACK_V4)).toBeUndefined();
    expect(guard(req('0000:0000:0000:0000:0000:ffff:7f00:0001'), MAPPED_LOOPBACK)).toBeUndefined();
    const refused = guard(req('192.0.2.2'), REMOTE);
    expect(refused?.status).toBe(403);
    expect(JSON.parse(String(refused?.body))).toEqual({
      error: { code: 'protected_mode', message: expect.stringMatching(/^protected mode: this server has no AUTH_TOKEN and listens on 0\.0\.0\.0/) },
    });
    expect(counted).toEqual(['protected_mode']);
  });

  it('with TRUST_PROXY, a proxy on loopback does not make its clients local', () => {
    const behindProxy = new AccessGate(
      { tokens: [], metricsNeedToken: true, protectedMode: true, failureLimitPerMinute: 30, trustProxy: true },
      '0.0.0.0',
      () => undefined,
    );
    const guard = behindProxy.guardFor('read')!;
    expect(guard(req('127.0.0.1', { 'x-forwarded-for': '198.51.100.7' }), LOOPBACK_V4)?.status).toBe(403);
    expect(guard(req('127.0.0.1', { 'x-forwarded-for': '127.0.0.1' }), LOOPBACK_V4)).toBeUndefined();
    expect(guard(req('127.0.0.1'), LOOPBACK_V4)).toBeUndefined();
    // A remote client forging a loopback X-Forwarded-For is still remote.
    expect(guard(req('192.0.2.2', { 'x-forwarded-for': '127.0.0.1' }), REMOTE)?.status).toBe(403);
  });

  describe('with a PeerWatch fed by the socket filter (the peer read once per connection)', () => {
    const socket = (...bytes: number[]) => ({ getRemoteAddress: () => new Uint8Array(bytes).buffer });
    /** A Response whose peer must not be asked for: the watch already knows. */
    const UNASKED = { raw: { getRemoteAddress: () => { throw new Error('the peer was read on the request path'); } } } as unknown as Response;
    const settings = { tokens: [], metricsNeedToken: true, protectedMode: true, failureLimitPerMinute: 30, trustProxy: false };

    it('skips the per-request check only while every open connection came from loopback', () => {
      const peers = new PeerWatch();
      const guard = new AccessGate(settings, '0.0.0.0', () => undefined, { peers }).guardFor('read')!;
      peers.onSocket(socket(127, 0, 0, 1), 1);
      peers.onSocket(socket(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), 1);
      expect(guard(req('127.0.0.1'), UNASKED)).toBeUndefined();

      // A remote client connects: from now on every request's own peer decides.
      peers.onSocket(socket(192, 0, 2, 2), 1);
      expect(guard(req('192.0.2.2'), REMOTE)?.status).toBe(403);
      expect(guard(req('127.0.0.1'), LOOPBACK_V4)).toBeUndefined();
      // Closes cannot say which socket left, so the thread stays mixed until all three are closed.
      peers.onSocket(socket(), -1);
      peers.onSocket(socket(), -1);
      expect(peers.onlyLoopback).toBe(false);
      expect(guard(req('192.0.2.2'), REMOTE)?.status).toBe(403);
      peers.onSocket(socket(), -1);
      expect(peers.onlyLoopback).toBe(true);
      expect(guard(req('127.0.0.1'), UNASKED)).toBeUndefined();
    });

    it('is not used behind a trusted proxy: X-Forwarded-For is read on every request', () => {
      const peers = new PeerWatch();
      const guard = new AccessGate({ ...settings, trustProxy: true }, '0.0.0.0', () => undefined, { peers }).guardFor('read')!;
      peers.onSocket(socket(127, 0, 0, 1), 1);
      expect(guard(req('127.0.0.1', { 'x-forwarded-for': '198.51.100.7' }), LOOPBACK_V4)?.status).toBe(403);
    });

    it('treats a peer address it cannot read as remote', () => {
      const peers = new PeerWatch();
      peers.onSocket(socket(), 1);
      expect(peers.onlyLoopback).toBe(false);
    });
  });
});

/** Why the network-namespace test cannot run here, or undefined if it can (tries to add and remove a namespace). */
function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root';
  if (IP === undefined) return 'no `ip` command (apt-get install -y iproute2)';
  if (!existsSync(CURL)) return 'no curl';
  // What the test does, in small: add a namespace and configure a link inside it (`ip -n` enters it,
  // which fails where / is not a mount point, as in a plain chroot).
  const probe = `sc19probe${process.pid}`;
  let added = false;
  try {
    execFileSync(IP, ['netns', 'add', probe], { stdio: 'pipe' });
    added = true;
    execFileSync(IP, ['-n', probe, 'link', 'set', 'lo', 'up'], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `\`ip netns\` failed: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
  } finally {
    if (added) execFileSync(IP, ['netns', 'delete', probe], { stdio: 'pipe' });
  }
}

const unavailable = netnsUnavailable();
if (unavailable !== undefined) {
  // eslint-disable-next-line no-console
  console.warn(`protected-mode.test.ts: the network-namespace test is skipped: ${unavailable}`);
}
const describeInNetns = unavailable === undefined ? describe : describe.skip;

describeInNetns('from a non-loopback address (network namespaces made by this test)', () => {
  const id = process.pid % 1_000_000;
  const SERVER_NS = `sc19s${id}`;
  const CLIENT_NS = `sc19c${id}`;
  const SERVER_LINK = `v19s${id}`;
  const CLIENT_LINK = `v19c${id}`;
  const SERVER_V4 = '192.0.2.1';
  const SERVER_V6 = 'fd19::1';
  const ip = (...args: string[]) => run(IP as string, args);
  const running: CliProcess[] = [];

  /** curl from inside a namespace; resolves with the status and body. */
  async function curlIn(ns: string, url: string, args: string[] = []): Promise<{ status: number; body: string }> {
    const { stdout } = await run(IP as string, ['netns', 'exec', ns, CURL, '--silent', '--max-time', '20', '-w', '\n%{http_code}', ...args, url]);
    const cut = stdout.lastIndexOf('\n');
    return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
  }
  const fromOutside = (url: string, args: string[] = []) => curlIn(CLIENT_NS, url, args);
  const fromInside = (url: string, args: string[] = []) => curlIn(SERVER_NS, url, args);
  const put = (key: string, value: string) => ['-X', 'POST', '-H', 'Content-Type: application/json', '-d', JSON.stringify({ key, value })];

  async function startServer(env: Record<string, string>): Promise<{ cli: CliProcess; port: number }> {
    const cli = spawnCli([], { PORT: '0', ...env }, [IP as string, 'netns', 'exec', SERVER_NS]);
    running.push(cli);
    return { cli, port: await cli.listening() };
  }
  async function stopServer(cli: CliProcess): Promise<void> {
    cli.child.kill('SIGTERM');
    expect(await cli.exited()).toBe(0);
  }

  async function removeEverything(): Promise<void> {
    for (const cli of running) if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
    await Promise.all(running.map((cli) => cli.exited()));
    // Deleting a namespace deletes the veth end in it, and with it its peer.
    for (const ns of [SERVER_NS, CLIENT_NS]) await ip('netns', 'delete', ns).catch(() => undefined);
  }

  beforeAll(async () => {
    await removeEverything(); // a run killed before its cleanup used the same names only if it had this PID
    await ip('netns', 'add', SERVER_NS);
    await ip('netns', 'add', CLIENT_NS);
    await ip('-n', SERVER_NS, 'link', 'add', SERVER_LINK, 'type', 'veth', 'peer', 'name', CLIENT_LINK, 'netns', CLIENT_NS);
    await ip('-n', SERVER_NS, 'addr', 'add', `${SERVER_V4}/24`, 'dev', SERVER_LINK);
    await ip('-n', CLIENT_NS, 'addr', 'add', '192.0.2.2/24', 'dev', CLIENT_LINK);
    // nodad: usable at once (no duplicate address detection wait).
    await ip('-n', SERVER_NS, '-6', 'addr', 'add', `${SERVER_V6}/64`, 'dev', SERVER_LINK, 'nodad');
    await ip('-n', CLIENT_NS, '-6', 'addr', 'add', 'fd19::2/64', 'dev', CLIENT_LINK, 'nodad');
    for (const [ns, link] of [[SERVER_NS, SERVER_LINK], [CLIENT_NS, CLIENT_LINK]] as const) {
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
      await ip('-n', ns, 'link', 'set', link, 'up');
    }
  }, BOUND_MS);

  afterAll(removeEverything, BOUND_MS);

  it('the default (HOST=0.0.0.0, no token; THREADS=2): other machines get 403 protected_mode, loopback is served', async () => {
    const { cli, port } = await startServer({ HOST: '0.0.0.0', THREADS: '2' });
    const outside = `http://${SERVER_V4}:${port}`;
    const inside = `http://127.0.0.1:${port}`;

    // The seed's put and get, from another machine: refused, and nothing stored.
    const refusedPut = await fromOutside(`${outside}/put`, put('foo', 'from-outside'));
    expect(refusedPut.status).toBe(403);
    expect(JSON.parse(refusedPut.body)).toEqual({
      error: { code: 'protected_mode', message: expect.stringContaining('Set AUTH_TOKEN and send "Authorization: Bearer <token>", or bind HOST=127.0.0.1, or set PROTECTED_MODE=no') },
    });
    for (const route of ['/get?key=foo', '/kv/foo', '/stats', '/metrics', '/no-such-route']) {
      expect([route, (await fromOutside(`${outside}${route}`)).status]).toEqual([route, 403]);
    }
    // Open routes stay open: load balancers and orchestrators probe /health from elsewhere.
    expect(await fromOutside(`${outside}/health`)).toEqual({ status: 200, body: '{"status":"ok"}' });
    expect((await fromOutside(`${outside}/dashboard`)).status).toBe(200);

    // The same server answers its own machine.
    expect((await fromInside(`${inside}/get?key=foo`)).status).toBe(404);
    expect(await fromInside(`${inside}/put`, put('foo', 'bar'))).toEqual({ status: 200, body: '{"ok":true}' });
    expect(await fromInside(`${inside}/get?key=foo`)).toEqual({ status: 200, body: '{"key":"foo","value":"bar"}' });
    expect((await fromOutside(`${outside}/get?key=foo`)).status).toBe(403);

    const metrics = (await fromInside(`${inside}/metrics`)).body;
    expect(metrics).toMatch(/^slabcache_auth_failures_total\{reason="protected_mode"\} 7$/m);

    const listening = cli.logs.find((l) => l['msg'] === 'listening') as Record<string, unknown>;
    expect(listening['access']).toBe('protected mode (loopback clients only)');
    const warning = cli.logs.find((l) => String(l['msg']).startsWith('protected mode:'));
    expect(String(warning?.['msg'])).toMatch(/HOST=0\.0\.0\.0 is not loopback, so only clients on this machine are answered.*docker run -e AUTH_TOKEN/);
    await stopServer(cli);
  }, BOUND_MS);

  it('HOST=:: (IPv6 and IPv4-mapped clients): other machines refused on both, loopback served on both', async () => {
    const { cli, port } = await startServer({ HOST: '::' });
    expect((await fromOutside(`http://[${SERVER_V6}]:${port}/get?key=x`)).status).toBe(403);
    expect((await fromOutside(`http://${SERVER_V4}:${port}/get?key=x`)).status).toBe(403);
    expect((await fromInside(`http://[::1]:${port}/get?key=x`)).status).toBe(404);
    expect((await fromInside(`http://127.0.0.1:${port}/get?key=x`)).status).toBe(404);
    await stopServer(cli);
  }, BOUND_MS);

  it('PROTECTED_MODE=no serves everyone, and says so at startup', async () => {
    const { cli, port } = await startServer({ HOST: '0.0.0.0', PROTECTED_MODE: 'no' });
    const outside = `http://${SERVER_V4}:${port}`;
    expect(await fromOutside(`${outside}/put`, put('foo', 'bar'))).toEqual({ status: 200, body: '{"ok":true}' });
    expect(await fromOutside(`${outside}/get?key=foo`)).toEqual({ status: 200, body: '{"key":"foo","value":"bar"}' });
    expect(cli.logs.some((l) => /^PROTECTED_MODE=no and no AUTH_TOKEN: every client that reaches 0\.0\.0\.0:\d+ can read, write and delete every key$/.test(String(l['msg'])))).toBe(true);
    expect((cli.logs.find((l) => l['msg'] === 'listening') as Record<string, unknown>)['access']).toBe('open (no token)');
    await stopServer(cli);
  }, BOUND_MS);

  it('with AUTH_TOKEN, other machines are served when they send the token', async () => {
    const { cli, port } = await startServer({ HOST: '0.0.0.0', AUTH_TOKEN: 's3cret' });
    const outside = `http://${SERVER_V4}:${port}`;
    expect((await fromOutside(`${outside}/put`, put('foo', 'bar'))).status).toBe(401);
    expect(await fromOutside(`${outside}/put`, [...put('foo', 'bar'), '-H', 'Authorization: Bearer s3cret'])).toEqual({ status: 200, body: '{"ok":true}' });
    expect((await fromOutside(`${outside}/get?key=foo`, ['-H', 'Authorization: Bearer s3cret'])).body).toBe('{"key":"foo","value":"bar"}');
    // Loopback clients need the token too: tokens replace protected mode, they do not add to it.
    expect((await fromInside(`http://127.0.0.1:${port}/get?key=foo`)).status).toBe(401);
    await stopServer(cli);
  }, BOUND_MS);

  it('removes every namespace and link it created', async () => {
    await removeEverything();
    const namespaces = (await ip('netns', 'list')).stdout;
    expect(namespaces).not.toContain(SERVER_NS);
    expect(namespaces).not.toContain(CLIENT_NS);
    const links = (await ip('-o', 'link', 'show')).stdout;
    expect(links).not.toContain(SERVER_LINK);
    expect(links).not.toContain(CLIENT_LINK);
  }, BOUND_MS);
});
