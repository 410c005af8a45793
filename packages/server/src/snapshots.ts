/**
 * Warm restart for the server: the snapshot file named by SNAPSHOT_PATH
 * (`--snapshot`) is checked at startup, loaded into the empty cache before
 * the server listens, saved every SNAPSHOT_INTERVAL seconds if set, and saved
 * once more on graceful shutdown. The engine does the work (saveSnapshot,
 * restoreSnapshot, see docs/snapshots.md); this module decides when, logs,
 * retries and keeps the status that /stats shows.
 *
 * It never takes the server down:
 *   - a save that fails is logged and retried (after RETRY_DELAY_MS, doubling
 *     up to the interval; on shutdown a few times in a row);
 *   - a snapshot refused at startup (truncated, corrupt, foreign, another
 *     version, too large for the limits) is logged, moved aside as
 *     `<path>.rejected-<time>` so that the next save does not destroy the
 *     evidence, and the server starts empty.
 * Only a path that cannot work at all (a directory, a missing or read-only
 * directory) is refused at startup by `checkSnapshotPath`, which throws
 * SnapshotPathError so that the CLI exits with a clear message instead.
 */

import { accessSync, constants, readdirSync, renameSync, statSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import path from 'node:path';

import { restoreSnapshot, saveSnapshot, SnapshotError, type SlabLruCache, type SnapshotErrorCode } from '@slabcache/engine';

import { ConfigError } from './config.js';
import { migrateLegacyValues } from './legacyValues.js';
import type { Logger } from './logger.js';

/** A SNAPSHOT_PATH that cannot be used; the message says why. A ConfigError, so the CLI exits 2 with it. */
export class SnapshotPathError extends ConfigError {}

/** One load or save, as /stats shows it. */
export interface SnapshotOperation {
  /** When it finished, ISO 8601. */
  readonly at: string;
  /**
   * ok; missing (no file at startup: started empty); rejected (file refused at
   * startup, moved aside); failed (an I/O error while loading or saving).
   */
  readonly result: 'ok' | 'missing' | 'rejected' | 'failed';
  readonly duration_ms: number;
  /** Entries loaded, or records written. */
  readonly entries: number;
  /** Size of the snapshot file. */
  readonly bytes: number;
  /** Why it was refused or failed. */
  readonly error?: string;
}

/** The `snapshot` section of /stats. */
export interface SnapshotStatus {
  readonly path: string;
  /** 0 = saved only on shutdown. */
  readonly interval_seconds: number;
  readonly saving: boolean;
  readonly saves_ok: number;
  readonly saves_failed: number;
  /** Failed saves since the last one that succeeded. */
  readonly consecutive_failures: number;
  readonly last_load: SnapshotOperation | null;
  readonly last_save: SnapshotOperation | null;
  /**
   * The save running now, or null: records and bytes written so far, and
   * whether its walk is over (`walk_done`: the instant it captures has passed;
   * the file is being finished).
   */
  readonly save_progress: { readonly records: number; readonly bytes: number; readonly walk_done: boolean } | null;
}

export interface SnapshotKeeperOptions {
  readonly cache: SlabLruCache;
  /** Checked with checkSnapshotPath first. */
  readonly path: string;
  /** Seconds between saves; 0 = only on shutdown. */
  readonly intervalSeconds: number;
  readonly logger: Logger;
  /** First retry delay after a failed save. Default RETRY_DELAY_MS. */
  readonly retryDelayMs?: number;
  /** Attempts of the final save on shutdown. Default SHUTDOWN_ATTEMPTS. */
  readonly shutdownAttempts?: number;
  /**
   * Called with the new status whenever it changes (a load or save starts or
   * ends): with THREADS > 1, /stats is answered by worker threads, which can
   * be sent each new status.
   */
  readonly onStatus?: (status: SnapshotStatus) => void;
}

export const RETRY_DELAY_MS = 5000;
/** Refusals that are about the file's contents: such a file is moved aside, not retried. */
const REFUSED_CONTENT = new Set<SnapshotErrorCode>([
  'ERR_SNAPSHOT_FOREIGN',
  'ERR_SNAPSHOT_VERSION',
  'ERR_SNAPSHOT_TRUNCATED',
  'ERR_SNAPSHOT_CORRUPT',
  'ERR_SNAPSHOT_INCOMPATIBLE',
]);
export const SHUTDOWN_ATTEMPTS = 3;

/**
 * Checks a SNAPSHOT_PATH before anything else starts and returns it made
 * absolute. Throws SnapshotPathError when it names a directory or anything
 * but a regular file, when its directory is missing, not a directory or not
 * writable (tested by creating and removing a probe file, which also catches
 * read-only mounts and volumes owned by another user). Also removes the
 * temporary files of saves whose process died (`<name>.tmp-<pid>-<n>` with
 * no such process running).
 */
export function checkSnapshotPath(given: string): string {
  if (given.trim() === '') throw new SnapshotPathError('SNAPSHOT_PATH is empty');
  const file = path.resolve(given);
  const directory = path.dirname(file);
  const parent = statOrThrow(directory, file);
  if (parent === undefined) throw new SnapshotPathError(`SNAPSHOT_PATH ${file}: directory ${directory} does not exist`);
  if (!parent.isDirectory()) throw new SnapshotPathError(`SNAPSHOT_PATH ${file}: ${directory} is not a directory`);
  const existing = statOrThrow(file, file);
  if (existing?.isDirectory()) {
    throw new SnapshotPathError(`SNAPSHOT_PATH ${file} is a directory; name a file in it, e.g. ${path.join(file, 'cache.snap')}`);
  }
  if (existing !== undefined && !existing.isFile()) throw new SnapshotPathError(`SNAPSHOT_PATH ${file} exists and is not a regular file`);
  if (existing !== undefined) {
    try {
      accessSync(file, constants.R_OK);
    } catch {
      throw new SnapshotPathError(`SNAPSHOT_PATH ${file} exists but cannot be read by this process`);
    }
  }
  const probe = path.join(directory, `.${path.basename(file)}.probe-${process.pid}`);
  try {
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new SnapshotPathError(`SNAPSHOT_PATH ${file}: cannot write in ${directory} (${why}); snapshots are written there and renamed`);
  }
  removeStaleTemporaries(file);
  return file;
}

/** stat, or undefined if nothing is there; any other failure (ENOTDIR, EACCES, …) as a SnapshotPathError. */
function statOrThrow(target: string, file: string): Stats | undefined {
  try {
    return statSync(target, { throwIfNoEntry: false });
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new SnapshotPathError(`SNAPSHOT_PATH ${file}: cannot examine ${target} (${why})`);
  }
}

/** A save writes its temporary file continuously: one untouched this long belongs to no running save. */
const STALE_TEMPORARY_MS = 60 * 60 * 1000;

/**
 * Deletes `<name>.tmp-<pid>-<n>` files left by saves that died: the process
 * is gone; or the pid is ours but the file is older than this process (in a
 * container the server is often pid 1 on every start); or nobody has written
 * to it for an hour (the pid was reused by another process).
 */
function removeStaleTemporaries(file: string): void {
  const prefix = `${path.basename(file)}.tmp-`;
  const directory = path.dirname(file);
  const processStartedAt = Date.now() - process.uptime() * 1000;
  for (const name of readdirSync(directory)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const temporary = path.join(directory, name);
    const modifiedAt = statSync(temporary, { throwIfNoEntry: false })?.mtimeMs;
    if (modifiedAt === undefined) continue;
    const stale =
      pid === process.pid ? modifiedAt < processStartedAt : !isRunning(pid) || Date.now() - modifiedAt > STALE_TEMPORARY_MS;
    if (!stale) continue;
    try {
      unlinkSync(temporary);
    } catch {
      // Someone else removed it first: nothing to do.
    }
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Loads, saves periodically and on stop, and keeps the status. Use:
 *   const keeper = new SnapshotKeeper({ cache, path: checkSnapshotPath(p), intervalSeconds, logger });
 *   await keeper.load();   // before listening
 *   keeper.start();        // periodic saves, if an interval is set
 *   ...
 *   await keeper.stop();   // on graceful shutdown, after the last request: final save
 */
export class SnapshotKeeper {
  readonly #cache: SlabLruCache;
  readonly #path: string;
  readonly #intervalMs: number;
  readonly #logger: Logger;
  readonly #retryDelayMs: number;
  readonly #shutdownAttempts: number;
  readonly #onStatus: ((status: SnapshotStatus) => void) | undefined;

  #timer: NodeJS.Timeout | undefined;
  #saving: Promise<boolean> | undefined;
  #stopped = false;
  #savesOk = 0;
  #savesFailed = 0;
  #consecutiveFailures = 0;
  #lastLoad: SnapshotOperation | null = null;
  #lastSave: SnapshotOperation | null = null;
  #saveProgress: SnapshotStatus['save_progress'] = null;

  constructor(options: SnapshotKeeperOptions) {
    this.#cache = options.cache;
    this.#path = options.path;
    this.#intervalMs = Math.max(0, options.intervalSeconds) * 1000;
    this.#logger = options.logger.child({ snapshot: options.path });
    this.#retryDelayMs = options.retryDelayMs ?? RETRY_DELAY_MS;
    this.#shutdownAttempts = Math.max(1, options.shutdownAttempts ?? SHUTDOWN_ATTEMPTS);
    this.#onStatus = options.onStatus;
  }

  /**
   * Fills the (empty) cache from the snapshot if there is one. Never throws:
   * a missing file means starting empty; a refused one is moved aside and
   * logged. Resolves with the operation, also kept as `status().last_load`.
   */
  async load(): Promise<SnapshotOperation> {
    const started = performance.now();
    try {
      const progress = progressLog(this.#logger, 'snapshot load progress');
      const stats = await restoreSnapshot(this.#cache, this.#path, {
        onProgress: (p) => progress(p.phase, p.bytes, p.totalBytes, p.entries),
      });
      // A snapshot of an earlier server: values carry their content type inside; move it to metadata.
      const legacy = migrateLegacyValues(this.#cache);
      this.#lastLoad = operation('ok', started, this.#cache.size, stats.bytes);
      this.#logger.info(
        { entries: stats.entries, records: stats.records, expired: stats.expired, dropped: stats.dropped, bytes: stats.bytes, ms: Math.round(stats.durationMs), savedAt: new Date(stats.createdAt).toISOString() },
        'snapshot loaded',
      );
      if (legacy.migrated + legacy.kept + legacy.dropped > 0) {
        this.#logger.info({ ...legacy, ms: Math.round(performance.now() - started - stats.durationMs) }, 'snapshot of an earlier server: values rewritten with their content type as metadata');
      }
    } catch (error) {
      if (error instanceof SnapshotError && error.code === 'ERR_SNAPSHOT_MISSING') {
        this.#lastLoad = operation('missing', started, 0, 0);
        this.#logger.info('no snapshot yet: starting empty');
      } else if (error instanceof SnapshotError && REFUSED_CONTENT.has(error.code)) {
        const movedTo = this.#moveAside();
        this.#lastLoad = operation('rejected', started, 0, 0, describe(error));
        this.#logger.error({ err: error, movedTo }, 'snapshot refused: starting empty');
      } else {
        // Not the file's fault (an I/O error, a cache already in use): leave the file alone.
        this.#lastLoad = operation('failed', started, this.#cache.size, 0, describe(error));
        this.#logger.error({ err: error }, 'snapshot could not be loaded');
      }
    }
    this.#notify();
    return this.#lastLoad;
  }

  /** Starts the periodic saves (no-op without an interval). The timer does not keep the process alive. */
  start(): void {
    if (this.#intervalMs > 0 && !this.#stopped) this.#schedule(this.#intervalMs);
  }

  /**
   * Saves now; if a save is already running, waits for it instead of
   * starting another. Resolves true if the save succeeded. Never throws.
   */
  saveNow(): Promise<boolean> {
    if (this.#saving === undefined) {
      this.#saving = this.#save().finally(() => {
        this.#saving = undefined;
        this.#notify();
      });
      this.#notify();
    }
    return this.#saving;
  }

  /**
   * Stops the periodic saves and writes the final snapshot (retried up to
   * shutdownAttempts times). Call it once no more writes are expected.
   * Resolves true if the final save succeeded. Never throws.
   */
  async stop(): Promise<boolean> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#saving;
    for (let attempt = 1; attempt <= this.#shutdownAttempts; attempt++) {
      if (await this.saveNow()) return true;
      if (attempt < this.#shutdownAttempts) await delay(Math.min(this.#retryDelayMs, 1000));
    }
    this.#logger.error({ attempts: this.#shutdownAttempts }, 'final snapshot failed: the previous snapshot (if any) is kept');
    return false;
  }

  /** The `snapshot` section of /stats. */
  status(): SnapshotStatus {
    return {
      path: this.#path,
      interval_seconds: this.#intervalMs / 1000,
      saving: this.#saving !== undefined,
      saves_ok: this.#savesOk,
      saves_failed: this.#savesFailed,
      consecutive_failures: this.#consecutiveFailures,
      last_load: this.#lastLoad,
      last_save: this.#lastSave,
      save_progress: this.#saveProgress,
    };
  }

  #notify(): void {
    try {
      this.#onStatus?.(this.status());
    } catch (error) {
      this.#logger.warn({ err: error }, 'snapshot status listener failed');
    }
  }

  async #save(): Promise<boolean> {
    const started = performance.now();
    try {
      const progress = progressLog(this.#logger, 'snapshot save progress');
      this.#saveProgress = { records: 0, bytes: 0, walk_done: false };
      const stats = await saveSnapshot(this.#cache, this.#path, {
        onProgress: (p) => {
          progress('save', p.records, p.entries, p.entries);
          this.#saveProgress = { records: p.records, bytes: p.bytes, walk_done: p.done };
          this.#notify();
        },
      });
      this.#saveProgress = null;
      this.#lastSave = operation('ok', started, stats.entries, stats.bytes);
      this.#savesOk++;
      this.#consecutiveFailures = 0;
      this.#logger.info(
        { entries: stats.entries, records: stats.records, bytes: stats.bytes, ms: Math.round(stats.durationMs), longestStepMs: Math.round(stats.longestStepMs * 10) / 10 },
        'snapshot saved',
      );
      return true;
    } catch (error) {
      this.#saveProgress = null;
      this.#lastSave = operation('failed', started, 0, 0, describe(error));
      this.#savesFailed++;
      this.#consecutiveFailures++;
      this.#logger.error({ err: error, consecutiveFailures: this.#consecutiveFailures }, 'snapshot save failed; the previous snapshot is kept');
      return false;
    }
  }

  /** Next periodic save in `ms`; after a failure, sooner (backing off up to the interval). */
  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      void this.saveNow().then((ok) => {
        if (this.#stopped) return;
        const retry = Math.min(this.#intervalMs, this.#retryDelayMs * 2 ** Math.max(0, this.#consecutiveFailures - 1));
        this.#schedule(ok ? this.#intervalMs : retry);
      });
    }, ms);
    this.#timer.unref();
  }

  /** Renames a refused snapshot to `<path>.rejected-<time>`; returns the new name, or undefined if that failed too. */
  #moveAside(): string | undefined {
    const aside = `${this.#path}.rejected-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      renameSync(this.#path, aside);
      return aside;
    } catch {
      return undefined;
    }
  }
}

function operation(result: SnapshotOperation['result'], started: number, entries: number, bytes: number, error?: string): SnapshotOperation {
  const base = { at: new Date().toISOString(), result, duration_ms: Math.round((performance.now() - started) * 10) / 10, entries, bytes };
  return error === undefined ? base : { ...base, error };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/* ---- wiring into the server ---- */

/** The settings this module reads (config rows SNAPSHOT_PATH / SNAPSHOT_INTERVAL). */
export interface SnapshotSettings {
  /** '' = no snapshots. */
  readonly snapshotPath: string;
  /** 0 = save only on shutdown. */
  readonly snapshotIntervalSeconds: number;
}

/**
 * The keeper for these settings, or undefined when SNAPSHOT_PATH is not set.
 * Checks the path now (SnapshotPathError, a ConfigError, if it cannot work),
 * so call it while building the server, before anything listens.
 */
export function snapshotKeeperFor(
  settings: SnapshotSettings,
  cache: SlabLruCache,
  logger: Logger,
  onStatus?: (status: SnapshotStatus) => void,
): SnapshotKeeper | undefined {
  if (settings.snapshotPath === '') return undefined;
  const file = checkSnapshotPath(settings.snapshotPath);
  return new SnapshotKeeper({
    cache,
    path: file,
    intervalSeconds: settings.snapshotIntervalSeconds,
    logger,
    ...(onStatus === undefined ? {} : { onStatus }),
  });
}

/** What withSnapshots needs of a server. */
export interface StartStop {
  start(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * The same server, with snapshots: start() loads the snapshot before
 * listening and then starts the periodic saves; stop() stops gracefully
 * (in-flight requests answered, sockets closed) and then writes the final
 * snapshot. Other members are untouched (stopNow, after a second signal,
 * skips the final save on purpose).
 */
export function withSnapshots<S extends StartStop>(server: S, keeper: SnapshotKeeper): S & { readonly snapshots: SnapshotKeeper } {
  let stopping: Promise<void> | undefined;
  // A new object whose prototype is the server: getters such as `port` keep working (a spread would call them now).
  return Object.assign(Object.create(server) as S, {
    snapshots: keeper,
    async start(): Promise<number> {
      await keeper.load();
      const port = await server.start();
      keeper.start();
      return port;
    },
    stop(): Promise<void> {
      stopping ??= server.stop().then(async () => {
        await keeper.stop();
      });
      return stopping;
    },
  });
}

/** How often a long snapshot load or save logs how far it has got. */
const PROGRESS_EVERY_MS = 2000;

/**
 * A progress reporter for a long snapshot operation: at most one log line
 * every PROGRESS_EVERY_MS, with how much is done, the rate and the time left
 * (estimated from the rate so far). Short operations log nothing.
 */
function progressLog(logger: Logger, message: string): (phase: string, done: number, total: number, entries: number) => void {
  const started = performance.now();
  let phase = '';
  let phaseStarted = started;
  let last = started;
  return (currentPhase, done, total, entries) => {
    const now = performance.now();
    if (currentPhase !== phase) {
      phase = currentPhase;
      phaseStarted = now;
    }
    if (now - last < PROGRESS_EVERY_MS) return;
    last = now;
    const seconds = (now - phaseStarted) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    logger.info(
      {
        phase,
        done,
        total,
        percent: total > 0 ? Math.round((done / total) * 1000) / 10 : null,
        entries,
        ratePerSecond: Math.round(rate),
        etaSeconds: rate > 0 && total > done ? Math.round((total - done) / rate) : null,
      },
      message,
    );
  };
}
