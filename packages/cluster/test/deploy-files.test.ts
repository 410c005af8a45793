/**
 * Issue 16: the deployment files under deploy/ that this machine cannot run
 * (no docker compose, no kubectl here) are at least checked for what can be
 * checked without them:
 *   - HAProxy (the real binary) accepts the shared configuration with each
 *     deployment's node list (`haproxy -c`);
 *   - the YAML parses, and the pieces that must agree do: compose services and
 *     the node list, the StatefulSet, its headless Service and the router's
 *     node list, the ConfigMap's copy of slabcache.cfg and the file itself;
 *   - the committed generated files are exactly what deploy-files.ts renders.
 * Plus the pure parts of the cluster package: the node list renderer and the
 * runtime API parser.
 */

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { parseAllDocuments, parse as parseYaml } from 'yaml';

import {
  COMPOSE_NODES,
  deployFiles,
  K8S_CONFIGMAP,
  K8S_HEADLESS_SERVICE,
  K8S_NAMESPACE,
  K8S_STATEFULSET,
  NODE_PORT,
} from '../src/deploy-files';
import { findHaproxy } from '../src/haproxy';
import { renderNodesConfig } from '../src/nodes-config';
import { parseShowStat } from '../src/runtime-api';

import { REPO_DIR } from './support/cluster';

const execFileAsync = promisify(execFile);
const read = (path: string) => readFileSync(join(REPO_DIR, path), 'utf8');
const SHARED = 'deploy/haproxy/slabcache.cfg';

/** `haproxy -c` of the shared configuration plus a node list; resolves with HAProxy's complaints, rejects if it refuses. */
async function haproxyCheck(nodesCfg: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'slabcache-deploy-test-'));
  try {
    writeFileSync(join(dir, 'nodes.cfg'), nodesCfg);
    const { stderr } = await execFileAsync(findHaproxy().path, ['-c', '-f', join(REPO_DIR, SHARED), '-f', join(dir, 'nodes.cfg')], {
      env: { ...process.env, SLABCACHE_ADMIN_SOCKET: join(dir, 'admin.sock') },
    });
    return stderr;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `server node<id> <host>:<port> id <id>` lines of a node list. */
function serverLines(nodesCfg: string): { name: string; host: string; port: number; id: number }[] {
  return [...nodesCfg.matchAll(/^ {4}server (\S+) ([^:\s]+):(\d+) id (\d+)/gm)].map((m) => ({
    name: m[1] as string,
    host: m[2] as string,
    port: Number(m[3]),
    id: Number(m[4]),
  }));
}

interface K8sObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

function k8sObjects(): K8sObject[] {
  const files = (parseYaml(read('deploy/kubernetes/kustomization.yaml')) as { resources: string[] }).resources;
  return files.flatMap((file) =>
    parseAllDocuments(read(`deploy/kubernetes/${file}`)).map((doc) => {
      expect(doc.errors).toEqual([]);
      return doc.toJS() as K8sObject;
    }),
  );
}

const find = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in deploy/kubernetes`);
  return found;
};

describe('generated files', () => {
  it.each(deployFiles().map((file) => [file.path, file.content]))('%s is what render-deploy writes', (path, content) => {
    expect(read(path)).toBe(content);
  });
});

describe('docker-compose', () => {
  const compose = parseYaml(read('deploy/docker-compose.yml')) as {
    services: Record<string, { image: string; build?: { context: string; dockerfile: string }; volumes?: string[]; ports?: string[]; environment?: Record<string, string> }>;
  };
  const nodesCfg = read('deploy/docker/nodes.cfg');

  it('has the router and one node service per server line, all built from this repository', () => {
    const servers = serverLines(nodesCfg);
    expect(servers).toHaveLength(COMPOSE_NODES);
    const nodeServices = Object.keys(compose.services).filter((name) => name !== 'router');
    expect(nodeServices.sort()).toEqual(servers.map((s) => s.host).sort());
    for (const server of servers) {
      expect(server.port).toBe(NODE_PORT);
      expect(compose.services[server.host]?.build).toEqual({ context: '..', dockerfile: 'Dockerfile' });
    }
    const router = compose.services['router'];
    expect(router?.build).toEqual({ context: '..', dockerfile: 'deploy/docker/router.Dockerfile' });
    expect(router?.volumes).toEqual(['./haproxy/slabcache.cfg:/etc/slabcache/slabcache.cfg:ro', './docker/nodes.cfg:/etc/slabcache/nodes.cfg:ro']);
    expect(router?.ports).toEqual(['7171:7171']);
  });

  it('its node list passes `haproxy -c` with the shared configuration (names unresolvable here: start-up tolerates it)', async () => {
    const complaints = await haproxyCheck(nodesCfg);
    expect(complaints).not.toMatch(/ALERT/);
  });

  it('the router image runs what the compose file mounts', () => {
    const dockerfile = read('deploy/docker/router.Dockerfile');
    expect(dockerfile).toContain('CMD ["haproxy", "-W", "-db", "-f", "/etc/slabcache/slabcache.cfg", "-f", "/etc/slabcache/nodes.cfg"]');
    expect(dockerfile).toMatch(/apt-get install -y --no-install-recommends haproxy/);
  });
});

describe('kubernetes', () => {
  const objects = k8sObjects();
  const statefulSet = find(objects, 'StatefulSet', K8S_STATEFULSET);
  const headless = find(objects, 'Service', K8S_HEADLESS_SERVICE);
  const configMap = find(objects, 'ConfigMap', K8S_CONFIGMAP);
  const router = find(objects, 'Deployment', 'slabcache-router');

  it('puts everything in one namespace', () => {
    expect(find(objects, 'Namespace', K8S_NAMESPACE)).toBeDefined();
    for (const o of objects.filter((o) => o.kind !== 'Namespace')) expect({ name: o.metadata.name, ns: o.metadata.namespace }).toEqual({ name: o.metadata.name, ns: K8S_NAMESPACE });
  });

  it('gives the StatefulSet a headless Service that selects its pods', () => {
    const spec = statefulSet.spec as { serviceName: string; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> } } };
    expect(spec.serviceName).toBe(K8S_HEADLESS_SERVICE);
    expect((headless.spec as { clusterIP: string }).clusterIP).toBe('None');
    expect((headless.spec as { selector: Record<string, string> }).selector).toEqual(spec.selector.matchLabels);
    expect(spec.template.metadata.labels).toMatchObject(spec.selector.matchLabels);
  });

  it('lists every StatefulSet pod in the router\'s node list, ring id = ordinal + 1', () => {
    const replicas = (statefulSet.spec as { replicas: number }).replicas;
    const servers = serverLines(configMap.data?.['nodes.cfg'] ?? '');
    expect(servers).toEqual(
      Array.from({ length: replicas }, (_, ordinal) => ({
        name: `node${ordinal + 1}`,
        host: `${K8S_STATEFULSET}-${ordinal}.${K8S_HEADLESS_SERVICE}.${K8S_NAMESPACE}.svc.cluster.local`,
        port: NODE_PORT,
        id: ordinal + 1,
      })),
    );
  });

  it('carries deploy/haproxy/slabcache.cfg unchanged in the ConfigMap, mounted where the router reads it', () => {
    expect(configMap.data?.['slabcache.cfg']).toBe(read(SHARED));
    const pod = (router.spec as { template: { spec: { containers: { command: string[]; volumeMounts: { name: string; mountPath: string }[] }[]; volumes: { name: string; configMap?: { name: string } }[] } } }).template.spec;
    const container = pod.containers[0];
    expect(container?.command).toEqual(['haproxy', '-W', '-db', '-f', '/etc/slabcache/slabcache.cfg', '-f', '/etc/slabcache/nodes.cfg']);
    const mount = container?.volumeMounts.find((m) => m.mountPath === '/etc/slabcache');
    expect(pod.volumes.find((v) => v.name === mount?.name)?.configMap?.name).toBe(K8S_CONFIGMAP);
  });

  it('its node list passes `haproxy -c` with the shared configuration', async () => {
    const complaints = await haproxyCheck(configMap.data?.['nodes.cfg'] ?? '');
    expect(complaints).not.toMatch(/ALERT/);
  });
});

describe('renderNodesConfig', () => {
  it('writes one server line per node with its fixed id, in the order given', () => {
    const cfg = renderNodesConfig([
      { id: 3, host: '10.0.0.3', port: 7171 },
      { id: 1, host: '10.0.0.1', port: 7171 },
    ]);
    expect(cfg).toBe('backend nodes from slabcache\n    server node3 10.0.0.3:7171 id 3\n    server node1 10.0.0.1:7171 id 1\n');
  });

  it('refuses duplicate or non-positive ids, odd hosts and bad ports, and an empty list', () => {
    expect(() => renderNodesConfig([])).toThrow(/at least one node/);
    expect(() => renderNodesConfig([{ id: 1, host: 'a', port: 1 }, { id: 1, host: 'b', port: 1 }])).toThrow(/used twice/);
    expect(() => renderNodesConfig([{ id: 0, host: 'a', port: 1 }])).toThrow(/positive integer/);
    expect(() => renderNodesConfig([{ id: 1, host: 'a b', port: 1 }])).toThrow(/not an IPv4 address or DNS name/);
    expect(() => renderNodesConfig([{ id: 1, host: 'a', port: 70000 }])).toThrow(/1-65535/);
  });
});

describe('parseShowStat', () => {
  it('reads servers (not FRONTEND/BACKEND rows) by column name', () => {
    const csv = [
      '# pxname,svname,qcur,stot,status,check_status',
      'slabcache,FRONTEND,,10,OPEN,',
      'nodes,node1,0,7,UP,L7OK',
      'nodes,node2,0,3,DOWN 1/2,L4CON',
      'nodes,BACKEND,0,10,UP,',
      '',
    ].join('\n');
    expect(parseShowStat(csv)).toEqual([
      { backend: 'nodes', server: 'node1', status: 'UP', checkStatus: 'L7OK', sessions: 7 },
      { backend: 'nodes', server: 'node2', status: 'DOWN 1/2', checkStatus: 'L4CON', sessions: 3 },
    ]);
  });

  it('refuses an answer that is not `show stat` CSV', () => {
    expect(() => parseShowStat('Unknown command\n')).toThrow(/unexpected/);
  });
});
