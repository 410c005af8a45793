/**
 * A client for HAProxy's runtime API: the unix socket declared by
 * `stats socket` in slabcache.cfg. One command per connection (HAProxy's
 * non-interactive mode): write the command and a newline, read until HAProxy
 * closes the connection.
 *
 * The cluster uses `show stat` to learn what the router's health checks
 * decided about each node: this is how the runner and the tests wait for a
 * node to be taken out or put back, by asking, not by sleeping.
 */

import { connect } from 'node:net';

export async function runtimeCommand(socketPath: string, command: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let answer = '';
    const timer = setTimeout(() => socket.destroy(new Error(`HAProxy runtime API did not answer "${command}" within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.end(`${command}\n`));
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', (hadError) => {
      clearTimeout(timer);
      if (!hadError) resolve(answer);
    });
  });
}

/**
 * One server of one backend as `show stat` reports it. `status` is HAProxy's:
 * "UP", "DOWN", "UP 1/2" (up, one check failed, still serving), "DOWN 1/2"
 * (down, one check passed, not serving yet), "MAINT", "no check".
 */
export interface ServerStat {
  readonly backend: string;
  readonly server: string;
  readonly status: string;
  /** Result of the last health check, e.g. L7OK, L4CON. */
  readonly checkStatus: string;
  /** Requests (sessions) sent to this server so far. */
  readonly sessions: number;
}

/** Parses `show stat` CSV (header line "# pxname,svname,..."), servers only. */
export function parseShowStat(csv: string): ServerStat[] {
  const lines = csv.split('\n').filter((line) => line.trim() !== '');
  const header = lines.shift();
  if (!header?.startsWith('# ')) throw new Error(`unexpected "show stat" answer: ${csv.slice(0, 200)}`);
  const columns = header.slice(2).split(',');
  const at = (name: string): number => {
    const index = columns.indexOf(name);
    if (index < 0) throw new Error(`"show stat" has no ${name} column`);
    return index;
  };
  const [pxname, svname, status, checkStatus, stot] = ['pxname', 'svname', 'status', 'check_status', 'stot'].map(at) as [number, number, number, number, number];
  return lines
    .map((line) => line.split(','))
    .filter((fields) => fields[svname] !== 'FRONTEND' && fields[svname] !== 'BACKEND')
    .map((fields) => ({
      backend: fields[pxname] ?? '',
      server: fields[svname] ?? '',
      status: fields[status] ?? '',
      checkStatus: fields[checkStatus] ?? '',
      sessions: Number(fields[stot] ?? 0),
    }));
}

export async function serverStats(socketPath: string): Promise<ServerStat[]> {
  return parseShowStat(await runtimeCommand(socketPath, 'show stat'));
}

/** True when the router sends this server its keys ("UP", or "UP 1/2" between a failed check and the verdict). */
export function isServing(stat: ServerStat): boolean {
  return stat.status === 'UP' || stat.status.startsWith('UP ');
}
