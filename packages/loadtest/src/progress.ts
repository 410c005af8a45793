/**
 * Progress of long CLI work (fills, load-test phases, the soak): how far, how
 * fast, how long to go.
 *
 *   on a terminal  one status line, redrawn in place a few times a second:
 *                    fill ours: 1,204,000 / 5,000,000 keys (24.1 %), 61,200 keys/s, ETA 1 min 02 s
 *                  (several tasks at once are joined with " | ", the newest
 *                  first); log lines
 *                  printed through log() appear above it
 *   otherwise      (a CI log, a file, a pipe) the same text as a plain line
 *                  every `logEveryMs` (10 s), prefixed "progress: ", so a log
 *                  shows that a long step is alive without filling up
 *   either way     a task's end prints one summary line:
 *                    fill ours: 5,000,000 keys in 1 min 21 s (61,700 keys/s)
 *
 * The rate is measured over the last `rateWindowMs` (10 s by default, so it
 * follows a slowdown), and the ETA is what is left at that rate. Time comes
 * from an injected Ticker (a clock and a repeating timer), so tests drive it
 * step by step; the timer runs only while a task is active and never keeps
 * the process alive.
 */

/** Where the status line goes (process.stderr by default). */
export interface ProgressOutput {
  readonly isTTY?: boolean | undefined;
  /** Terminal width; the status line is cut to fit. */
  readonly columns?: number | undefined;
  write(text: string): unknown;
}

/** A clock in milliseconds and a repeating timer; `every` returns its cancel function. */
export interface Ticker {
  now(): number;
  every(ms: number, tick: () => void): () => void;
}

export const SYSTEM_TICKER: Ticker = {
  now: () => performance.now(),
  every(ms, tick) {
    const timer = setInterval(tick, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};

export interface ProgressOptions {
  /** The status line and periodic lines. Default: process.stderr. */
  readonly output?: ProgressOutput;
  /** Log lines (log() and task summaries). Default: process.stdout. */
  readonly logOutput?: ProgressOutput;
  readonly ticker?: Ticker;
  /** Terminal: redraw period. Default 250 ms. */
  readonly redrawMs?: number;
  /** Not a terminal: one line per this period. Default 10 s. */
  readonly logEveryMs?: number;
}

export interface TaskOptions {
  /** What is counted ("keys", "runs"). */
  readonly unit: string;
  /** The amount of work; 0 when unknown (no percentage, no ETA). */
  readonly total: number;
  /** Rate over this last stretch of time. Default 10 s; longer for coarse steps. */
  readonly rateWindowMs?: number;
  /** False for tasks counted in seconds of wall time (a rate of "1 s/s" says nothing). Default true. */
  readonly showRate?: boolean;
  /** False when the caller prints its own result line: end() then prints nothing. Default true. */
  readonly summary?: boolean;
}

/** The display: owns the status line and the timer. One per process. */
export class Progress {
  readonly #output: ProgressOutput;
  readonly #logOutput: ProgressOutput;
  readonly #ticker: Ticker;
  readonly #tty: boolean;
  readonly #periodMs: number;
  readonly #tasks: ProgressTask[] = [];
  #stopTimer: (() => void) | undefined;
  /** What the status line shows now ('' = nothing drawn). */
  #drawn = '';

  constructor(options: ProgressOptions = {}) {
    this.#output = options.output ?? process.stderr;
    this.#logOutput = options.logOutput ?? process.stdout;
    this.#ticker = options.ticker ?? SYSTEM_TICKER;
    this.#tty = this.#output.isTTY === true;
    this.#periodMs = this.#tty ? (options.redrawMs ?? 250) : (options.logEveryMs ?? 10_000);
  }

  /** Starts showing a task; call its update()/add() as work is done and end() when it is. */
  task(label: string, options: TaskOptions): ProgressTask {
    const task = new ProgressTask(label, options, this.#ticker.now(), {
      now: () => this.#ticker.now(),
      end: (t, summary) => this.#end(t, summary),
    });
    this.#tasks.push(task);
    this.#stopTimer ??= this.#ticker.every(this.#periodMs, () => this.#tick());
    return task;
  }

  /** Prints a line (to the log output) without breaking the status line. */
  log(line: string): void {
    this.#clear();
    this.#logOutput.write(`${line}\n`);
    this.#redraw();
  }

  /**
   * The status text of the active tasks as it would be drawn now: the newest
   * first (a fill inside a phase is what moves), so a narrow terminal cuts
   * the outer ones.
   */
  statusText(): string {
    const now = this.#ticker.now();
    return this.#tasks
      .map((t) => t.describe(now))
      .reverse()
      .join(' | ');
  }

  #tick(): void {
    if (this.#tty) {
      this.#redraw();
    } else if (this.#tasks.length > 0) {
      this.#output.write(`progress: ${this.statusText()}\n`);
    }
  }

  #end(task: ProgressTask, summary: string | null): void {
    const at = this.#tasks.indexOf(task);
    if (at < 0) return;
    this.#tasks.splice(at, 1);
    if (this.#tasks.length === 0) {
      this.#stopTimer?.();
      this.#stopTimer = undefined;
    }
    if (summary !== null) {
      this.log(summary);
    } else {
      this.#clear();
      this.#redraw();
    }
  }

  #clear(): void {
    if (this.#drawn === '') return;
    this.#output.write('\r\x1b[2K');
    this.#drawn = '';
  }

  #redraw(): void {
    if (!this.#tty) return;
    // A pseudo-terminal without a size reports 0 columns.
    const columns = this.#output.columns;
    const width = columns !== undefined && columns >= 20 ? columns - 1 : 119;
    const text = this.statusText().slice(0, width);
    if (text === this.#drawn) return;
    this.#output.write(`\r\x1b[2K${text}`);
    this.#drawn = text;
  }
}

interface TaskHost {
  now(): number;
  end(task: ProgressTask, summary: string | null): void;
}

/** One piece of work being counted. */
export class ProgressTask {
  readonly label: string;
  readonly #options: Required<TaskOptions>;
  readonly #startedAt: number;
  readonly #host: TaskHost;
  /** (time, done) pairs within the rate window, oldest first. */
  readonly #samples: Array<{ t: number; done: number }> = [];
  #done = 0;
  #ended = false;

  constructor(label: string, options: TaskOptions, startedAt: number, host: TaskHost) {
    this.label = label;
    this.#options = { rateWindowMs: 10_000, showRate: true, summary: true, ...options };
    this.#startedAt = startedAt;
    this.#host = host;
    this.#samples.push({ t: startedAt, done: 0 });
  }

  get done(): number {
    return this.#done;
  }

  /** Sets how much is done (absolute). */
  update(done: number): void {
    if (this.#ended) return;
    this.#done = done;
    const now = this.#host.now();
    const samples = this.#samples;
    samples.push({ t: now, done });
    // Keep one sample at or before the window's start, so the rate spans the whole window.
    while (samples.length > 2 && (samples[1] as { t: number }).t <= now - this.#options.rateWindowMs) samples.shift();
  }

  add(amount: number): void {
    this.update(this.#done + amount);
  }

  /** Done/s over the rate window, or null before any time has passed. */
  rate(now: number): number | null {
    const first = this.#samples[0] as { t: number; done: number };
    const seconds = (now - first.t) / 1000;
    return seconds > 0 ? (this.#done - first.done) / seconds : null;
  }

  /** "label: done / total unit (pct), rate, ETA …" at time `now`. */
  describe(now: number): string {
    const { total, unit, showRate } = this.#options;
    let text = `${this.label}: ${count(this.#done)}${total > 0 ? ` / ${count(total)}` : ''} ${unit}`;
    if (total > 0) text += ` (${((100 * Math.min(this.#done, total)) / total).toFixed(1)} %)`;
    const rate = this.rate(now);
    if (showRate) text += `, ${formatRate(rate, unit)}`;
    if (total > 0) {
      const left = Math.max(0, total - this.#done);
      text += `, ETA ${left === 0 ? '0 s' : rate !== null && rate > 0 ? formatDuration(left / rate) : '?'}`;
    }
    return text;
  }

  /**
   * Ends the task (idempotent) and prints its summary line, unless the task
   * was made with `summary: false`; `note` is appended to it ("stopped early").
   */
  end(note?: string): void {
    if (this.#ended) return;
    this.#ended = true;
    const seconds = (this.#host.now() - this.#startedAt) / 1000;
    const { unit, showRate, summary } = this.#options;
    const speed = showRate && seconds > 0 ? ` (${formatRate(this.#done / seconds, unit)})` : '';
    const line = `${this.label}: ${count(this.#done)} ${unit} in ${formatDuration(seconds)}${speed}${note ? `; ${note}` : ''}`;
    this.#host.end(this, summary || note ? line : null);
  }
}

/** 1234567 -> "1,234,567". */
function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Per second, or per minute below one per second: "61,200 keys/s", "4.5 runs/min". */
export function formatRate(perSecond: number | null, unit: string): string {
  if (perSecond === null) return `? ${unit}/s`;
  if (perSecond > 0 && perSecond < 1) return `${(perSecond * 60).toFixed(1)} ${unit}/min`;
  return `${perSecond >= 100 ? count(perSecond) : perSecond.toFixed(1)} ${unit}/s`;
}

/** Seconds as "42 s", "3 min 05 s", "1 h 02 min". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor(s / 60) % 60).padStart(2, '0')} min`;
}
