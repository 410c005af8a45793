/**
 * Snapshots: save a cache to a file without stopping it, load it back with its
 * LRU order and TTLs. See docs/snapshots.md for the format and the guarantees.
 */

export { saveSnapshot, type SaveOptions, type SaveStats } from './save.js';
export {
  inspectSnapshot,
  loadSnapshot,
  restoreSnapshot,
  type LoadedSnapshot,
  type LoadOptions,
  type LoadProgress,
  type LoadStats,
  type SnapshotInfo,
} from './load.js';
export { FORMAT_VERSION as SNAPSHOT_FORMAT_VERSION, SnapshotError, type SnapshotErrorCode } from './format.js';
