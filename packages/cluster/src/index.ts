export { startCluster, type ClusterOptions, type LocalCluster } from './cluster.js';
export { findHaproxy, checkConfig, MIN_HAPROXY_VERSION, type HaproxyBinary, type Router } from './haproxy.js';
export { renderNodesConfig, serverName, type NodeEntry, type NodesConfigOptions } from './nodes-config.js';
export { startNode, type CacheNode, type NodeStats } from './node-process.js';
export { parseShowStat, runtimeCommand, serverStats, isServing, type ServerStat } from './runtime-api.js';
export { paths, repoDir } from './paths.js';
