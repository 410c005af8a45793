/**
 * One server per port. uWebSockets.js listens with SO_REUSEPORT (that is how
 * the server threads share one port), and the kernel lets any other socket
 * with SO_REUSEPORT and the same user join that port: a second slabcache, or
 * any uWS-based program, would start "successfully" and the kernel would then
 * split connections between two caches. Two checks turn that into a startup
 * error naming the port:
 *
 *   1. before listening, `assertPortFree` binds the address with a plain
 *      socket (no SO_REUSEPORT) and closes it: any listener already there,
 *      with SO_REUSEPORT or not, makes that bind fail with EADDRINUSE;
 *   2. after listening, `assertNoForeignListeners` reads the kernel's table of
 *      listening sockets (/proc/net/tcp, tcp6) and checks that every one on
 *      this port, whose address overlaps ours, is a socket of this process
 *      (an inode among /proc/self/fd). This catches a program that joined
 *      between check 1 and our bind (two servers started at the same moment).
 *
 * Not covered: a program that binds with SO_REUSEPORT as the same user *after*
 * this server has started joins its port; the kernel allows that, and no
 * socket option of uWS 20.30 refuses it while the threads share the port.
 * docs/runtimes.md says so.
 */

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';

/** The server cannot have the port to itself. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

/** Rejects with PortInUseError if anything listens on host:port now. Port 0 is always free. */
export function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(new PortInUseError(`${host}:${port} is already in use by another program (EADDRINUSE); stop it or choose another PORT`));
      } else {
        reject(new Error(`cannot listen on ${host}:${port}: ${error.message}`));
      }
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/**
 * Throws PortInUseError if a listening socket that is not this process's
 * shares host:port. Does nothing where /proc/net is not readable (not Linux).
 */
export function assertNoForeignListeners(host: string, port: number): void {
  const listeners = listeningSockets(port);
  if (listeners === undefined) return;
  const ours = socketInodesOfThisProcess();
  const foreign = listeners.filter((socket) => addressesOverlap(socket.address, host) && !ours.has(socket.inode));
  if (foreign.length > 0) {
    const who = foreign.map((socket) => `${socket.address}:${port} (socket inode ${socket.inode})`).join(', ');
    throw new PortInUseError(
      `${host}:${port} is also held by another program that listens with SO_REUSEPORT: ${who}; ` +
        'the kernel would split connections between it and this server, so this server does not start',
    );
  }
}

interface ListeningSocket {
  /** Dotted IPv4 ('0.0.0.0'), or IPv6 in /proc's 32-hex-digit form. */
  readonly address: string;
  readonly inode: string;
}

/** TCP state 0x0A in /proc/net/tcp: LISTEN. */
const TCP_LISTEN = '0A';

/**
 * Listening sockets on `port` in this network namespace. /proc/net/tcp rows are
 * `sl local_address rem_address st ... uid timeout inode ...`, addresses as
 * hex `ADDR:PORT` with the IPv4 address in host (little-endian) byte order.
 */
function listeningSockets(port: number): ListeningSocket[] | undefined {
  const found: ListeningSocket[] = [];
  let readAny = false;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    readAny = true;
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      if (local === undefined || fields[3] !== TCP_LISTEN) continue;
      const [hexAddress = '', hexPort = ''] = local.split(':');
      if (Number.parseInt(hexPort, 16) !== port) continue;
      found.push({ address: hexAddress.length === 8 ? ipv4FromProc(hexAddress) : hexAddress, inode: fields[9] ?? '' });
    }
  }
  return readAny ? found : undefined;
}

function ipv4FromProc(hex: string): string {
  const value = Number.parseInt(hex, 16);
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24].join('.');
}

const IPV6_ANY = '0'.repeat(32);
const IPV4_LITERAL = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Whether connections to `host` can reach a socket bound to `address` (as /proc writes it). */
function addressesOverlap(address: string, host: string): boolean {
  // A wildcard listener takes every address, and so does ours when we bind one.
  if (address === '0.0.0.0' || address === IPV6_ANY || host === '0.0.0.0' || host === '::') return true;
  if (IPV4_LITERAL.test(host)) return address === host || address === ipv4MappedInProc(host);
  // An IPv6 literal or a host name: count every listener on the port (refusing is the safe side).
  return true;
}

/** `::ffff:a.b.c.d` as /proc/net/tcp6 writes it: four 32-bit words, each in host byte order. */
function ipv4MappedInProc(ipv4: string): string {
  const [a = 0, b = 0, c = 0, d = 0] = ipv4.split('.').map(Number);
  const hex = (byte: number): string => byte.toString(16).padStart(2, '0').toUpperCase();
  return `0000000000000000FFFF0000${hex(d)}${hex(c)}${hex(b)}${hex(a)}`;
}

function socketInodesOfThisProcess(): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (match?.[1]) inodes.add(match[1]);
    } catch {
      // The fd closed while we listed them.
    }
  }
  return inodes;
}
