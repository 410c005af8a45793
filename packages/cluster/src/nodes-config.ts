/**
 * The per-deployment half of the router's configuration: the list of nodes.
 *
 * HAProxy loads deploy/haproxy/slabcache.cfg (the same everywhere: routes,
 * hashing, health checks) and then this file, which is the `nodes` backend
 * with one `server` line per node:
 *
 *   backend nodes from slabcache
 *       server node1 127.0.0.1:17301 id 1
 *       server node2 127.0.0.1:17302 id 2
 *
 * A node's `id` places it on the consistent-hash ring (HAProxy 2.6 derives a
 * server's ring points from its numeric id). So ids are fixed for a node's
 * life, never reused for another, and independent of the order of the lines:
 * adding node 4 leaves nodes 1-3 where they were and moves only the keys that
 * land on node 4's arcs.
 */

export interface NodeEntry {
  /** Positive and unique: the node's place on the hash ring (and its name, node<id>). */
  readonly id: number;
  /** What HAProxy connects to: an IP address or a DNS name. */
  readonly host: string;
  readonly port: number;
}

/** How HAProxy follows DNS names whose address changes (a container or pod restarted elsewhere). */
export type DnsResolvers =
  | { readonly name: string; readonly nameservers: readonly string[] }
  | { readonly name: string; readonly parseResolvConf: true };

export interface NodesConfigOptions {
  /** Comment lines at the top (without the leading `#`). */
  readonly comment?: readonly string[];
  /** Set when hosts are DNS names: they are then resolved at startup if possible, and followed at run time. */
  readonly resolvers?: DnsResolvers;
}

/** The backend name slabcache.cfg routes to, and the named defaults it takes its settings from. */
export const BACKEND = 'nodes';
export const DEFAULTS = 'slabcache';

export function serverName(id: number): string {
  return `node${id}`;
}

export function renderNodesConfig(nodes: readonly NodeEntry[], options: NodesConfigOptions = {}): string {
  checkNodes(nodes);
  const lines: string[] = [];
  for (const line of options.comment ?? []) lines.push(line === '' ? '#' : `# ${line}`);
  if (options.comment?.length) lines.push('');
  const resolvers = options.resolvers;
  if (resolvers) {
    lines.push(`resolvers ${resolvers.name}`);
    if ('parseResolvConf' in resolvers) lines.push('    parse-resolv-conf');
    else resolvers.nameservers.forEach((address, i) => lines.push(`    nameserver dns${i + 1} ${address}`));
    // Keep the last good answer while DNS is briefly unavailable.
    lines.push('    hold valid 10s', '    hold obsolete 30s', '');
  }
  lines.push(`backend ${BACKEND} from ${DEFAULTS}`);
  // `init-addr last,libc,none`: start even if a name does not resolve yet; the
  // health checks keep such a node out until it does.
  const dns = resolvers ? ` resolvers ${resolvers.name} resolve-prefer ipv4 init-addr last,libc,none` : '';
  for (const node of nodes) lines.push(`    server ${serverName(node.id)} ${node.host}:${node.port} id ${node.id}${dns}`);
  return lines.join('\n') + '\n';
}

function checkNodes(nodes: readonly NodeEntry[]): void {
  if (nodes.length === 0) throw new Error('a cluster needs at least one node');
  const ids = new Set<number>();
  for (const node of nodes) {
    if (!Number.isInteger(node.id) || node.id < 1) throw new Error(`node id must be a positive integer, got ${node.id}`);
    if (ids.has(node.id)) throw new Error(`node id ${node.id} is used twice: ids place nodes on the hash ring and must be unique`);
    ids.add(node.id);
    if (!/^[A-Za-z0-9._-]+$/.test(node.host)) throw new Error(`node host ${JSON.stringify(node.host)} is not an IPv4 address or DNS name`);
    if (!Number.isInteger(node.port) || node.port < 1 || node.port > 65535) throw new Error(`node port must be 1-65535, got ${node.port}`);
  }
}
