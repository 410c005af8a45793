/**
 * Per-thread counters in one SharedArrayBuffer, so that whichever thread
 * serves /stats or /metrics can report the requests of every thread.
 *
 * Layout: one row of `cellsPerThread` float64 cells per thread, each row
 * padded to whole 64-byte cache lines so that two threads never write the same
 * line (no false sharing on the hot path).
 *
 *   row t = cells [t * stride, t * stride + cellsPerThread)
 *
 * Each row has exactly one writer, its own thread, which increments with
 * plain stores: no Atomics and no lock on the request path. Other threads only
 * read. An aligned float64 load or store is a single 8-byte access on x86-64
 * and arm64 (V8 emits one instruction), so a reader sees a cell either before
 * or after an increment, never a torn value; a scrape may be a few requests
 * behind, as any counter scrape is. Float64 stays exact up to 2^53 requests.
 *
 * Why not prom-client's AggregatorRegistry: it aggregates by asking every
 * worker for its registry over messages, which makes each scrape an async
 * round trip through every thread (and a stuck thread stalls /metrics). Here
 * a scrape is a read of shared memory.
 */

/** Float64 cells per cache line. */
const CELLS_PER_LINE = 8;

/** What a worker needs to attach: structured-clonable, for postMessage/workerData. */
export interface ThreadCountersHandle {
  readonly buffer: SharedArrayBuffer;
  readonly threads: number;
  readonly cellsPerThread: number;
}

export class ThreadCounters {
  readonly #handle: ThreadCountersHandle;
  readonly #cells: Float64Array;
  readonly #stride: number;

  private constructor(handle: ThreadCountersHandle) {
    this.#handle = handle;
    this.#stride = Math.ceil(handle.cellsPerThread / CELLS_PER_LINE) * CELLS_PER_LINE;
    this.#cells = new Float64Array(handle.buffer);
  }

  /** Zeroed counters for `threads` threads of `cellsPerThread` cells each. */
  static create(threads: number, cellsPerThread: number): ThreadCounters {
    const stride = Math.ceil(cellsPerThread / CELLS_PER_LINE) * CELLS_PER_LINE;
    const buffer = new SharedArrayBuffer(Math.max(1, threads * stride) * Float64Array.BYTES_PER_ELEMENT);
    return new ThreadCounters({ buffer, threads, cellsPerThread });
  }

  /** The same counters, seen from another thread. */
  static attach(handle: ThreadCountersHandle): ThreadCounters {
    return new ThreadCounters(handle);
  }

  get handle(): ThreadCountersHandle {
    return this.#handle;
  }

  get threads(): number {
    return this.#handle.threads;
  }

  get cellsPerThread(): number {
    return this.#handle.cellsPerThread;
  }

  /** Thread `thread`'s row: write only from that thread. */
  row(thread: number): Float64Array {
    if (!Number.isInteger(thread) || thread < 0 || thread >= this.threads) {
      throw new RangeError(`thread ${thread} is not in 0..${this.threads - 1}`);
    }
    const start = thread * this.#stride;
    return this.#cells.subarray(start, start + this.cellsPerThread);
  }
}
