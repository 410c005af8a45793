/**
 * Which addresses are loopback, for protected mode (protectedMode.ts): the
 * address the server binds (HOST) and the address a client connects from.
 *
 * Loopback is 127.0.0.0/8 and ::1, and an IPv4 loopback address mapped into
 * IPv6 (::ffff:127.0.0.1: what a client of 127.0.0.1 looks like on a server
 * bound to `::`). uWS writes IPv6 peers in full, eight groups of four hex
 * digits (`0000:0000:0000:0000:0000:ffff:7f00:0001`); other sources write
 * them compressed (`::1`); both are read here, and the 4 or 16 bytes of
 * uWS's binary form too. Anything that does not parse
 * as an address is not loopback: protected mode then refuses it, which is the
 * safe side.
 */

import { isIPv4, isIPv6 } from 'node:net';

/** Whether a server bound to `host` can only be reached from this machine. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return bare.toLowerCase() === 'localhost' || isLoopbackAddress(bare);
}

/** Whether `address` (IPv4 or IPv6 text) is a loopback address. */
export function isLoopbackAddress(address: string): boolean {
  if (isIPv4(address)) return address.startsWith('127.');
  if (!isIPv6(address)) return false;
  const words = ipv6Words(address);
  if (words === undefined) return false;
  const zeroUpTo = (n: number): boolean => words.slice(0, n).every((w) => w === 0);
  // ::1
  if (zeroUpTo(7) && words[7] === 1) return true;
  // ::ffff:127.x.y.z (IPv4-mapped): the high byte of word 6 is the first octet.
  return zeroUpTo(5) && words[5] === 0xffff && (words[6] as number) >> 8 === 127;
}

/**
 * Whether a peer address as uWS gives it in binary (`getRemoteAddress()`: 4
 * bytes for IPv4, 16 for IPv6) is loopback. The request path uses this: no
 * string is built, unlike the text form.
 */
export function isLoopbackPeer(address: ArrayBuffer): boolean {
  const bytes = new Uint8Array(address);
  if (bytes.length === 4) return bytes[0] === 127;
  if (bytes.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  // ::ffff:127.x.y.z (IPv4-mapped)
  if (bytes[10] === 0xff && bytes[11] === 0xff) return bytes[12] === 127;
  // ::1
  return bytes[10] === 0 && bytes[11] === 0 && bytes[12] === 0 && bytes[13] === 0 && bytes[14] === 0 && bytes[15] === 1;
}

/** The eight 16-bit words of a valid IPv6 address (a trailing dotted IPv4 part is the last two). */
function ipv6Words(address: string): number[] | undefined {
  const zone = address.indexOf('%');
  let text = zone === -1 ? address : address.slice(0, zone);
  const lastColon = text.lastIndexOf(':');
  const dotted = text.slice(lastColon + 1);
  if (isIPv4(dotted)) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((w) => (/^[0-9a-f]{1,4}$/i.test(w) ? Number.parseInt(w, 16) : NaN)));
  const head = parse(halves[0] ?? '');
  const rest = parse(halves[1] ?? '');
  const words = halves.length === 2 ? [...head, ...new Array<number>(Math.max(0, 8 - head.length - rest.length)).fill(0), ...rest] : head;
  return words.length === 8 && words.every((w) => !Number.isNaN(w)) ? words : undefined;
}
