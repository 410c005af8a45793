/**
 * src/progress.ts, driven by a fake clock and timer: every line is decided by
 * the steps the test takes, never by real time.
 */

import { formatDuration, formatRate, Progress, type ProgressOutput, type Ticker } from '../src/progress.js';

/** A clock that moves only when told, firing the timers that fall due on the way. */
class FakeTicker implements Ticker {
  time = 0;
  readonly #timers = new Set<{ every: number; next: number; tick: () => void }>();

  now(): number {
    return this.time;
  }

  every(ms: number, tick: () => void): () => void {
    const timer = { every: ms, next: this.time + ms, tick };
    this.#timers.add(timer);
    return () => this.#timers.delete(timer);
  }

  get activeTimers(): number {
    return this.#timers.size;
  }

  /** Moves the clock forward by `ms`, firing each timer at each of its due times in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.#timers].filter((t) => t.next <= end).sort((a, b) => a.next - b.next)[0];
      if (!due) break;
      this.time = due.next;
      due.next += due.every;
      due.tick();
    }
    this.time = end;
  }
}

/** An output that records what was written. */
function recorder(isTTY: boolean, columns?: number): ProgressOutput & { text: string } {
  return {
    isTTY,
    columns,
    text: '',
    write(chunk: string) {
      this.text += chunk;
    },
  };
}

function setUp(isTTY: boolean, columns?: number) {
  const ticker = new FakeTicker();
  const output = recorder(isTTY, columns);
  const log = recorder(false);
  const progress = new Progress({ output, logOutput: log, ticker, redrawMs: 250, logEveryMs: 10_000 });
  return { ticker, output, log, progress };
}

describe('not a terminal: a line every 10 s', () => {
  it('prints done, total, percentage, rate and ETA on each period, and a summary at the end', () => {
    const { ticker, output, log, progress } = setUp(false);
    const fill = progress.task('fill ours', { unit: 'keys', total: 1_000_000 });
    ticker.advance(5_000);
    fill.update(250_000);
    expect(output.text).toBe(''); // nothing before the first period
    ticker.advance(5_000);
    fill.update(500_000); // after the line at t = 10 s
    expect(output.text).toBe('progress: fill ours: 250,000 / 1,000,000 keys (25.0 %), 25,000 keys/s, ETA 30 s\n');
    ticker.advance(10_000);
    expect(output.text.split('\n')[1]).toBe('progress: fill ours: 500,000 / 1,000,000 keys (50.0 %), 25,000 keys/s, ETA 20 s');
    fill.update(1_000_000);
    ticker.advance(2_000);
    fill.end();
    expect(log.text).toBe('fill ours: 1,000,000 keys in 22 s (45,455 keys/s)\n');
    expect(ticker.activeTimers).toBe(0); // the timer stops with the last task
    ticker.advance(60_000);
    expect(output.text.split('\n')).toHaveLength(3); // two periodic lines, nothing after the end
  });

  it('measures the rate over the last 10 s, so the ETA follows a slowdown', () => {
    const { ticker, progress } = setUp(false);
    const task = progress.task('fill', { unit: 'keys', total: 100_000 });
    for (let s = 1; s <= 20; s++) {
      ticker.advance(1000);
      task.add(s <= 10 ? 4000 : 1000); // 4,000/s for 10 s, then 1,000/s
    }
    expect(task.rate(ticker.now())).toBe(1000);
    expect(task.describe(ticker.now())).toBe('fill: 50,000 / 100,000 keys (50.0 %), 1,000 keys/s, ETA 50 s');
  });

  it('says ? until there is a rate, and leaves out what an unknown total cannot give', () => {
    const { ticker, progress } = setUp(false);
    const waiting = progress.task('fill', { unit: 'keys', total: 10 });
    expect(waiting.describe(ticker.now())).toBe('fill: 0 / 10 keys (0.0 %), ? keys/s, ETA ?');
    ticker.advance(1000);
    expect(waiting.describe(ticker.now())).toBe('fill: 0 / 10 keys (0.0 %), 0.0 keys/s, ETA ?');
    const open = progress.task('requests', { unit: 'req', total: 0 });
    ticker.advance(2000);
    open.update(3000);
    expect(open.describe(ticker.now())).toBe('requests: 3,000 req, 1,500 req/s');
    const timed = progress.task('steady load', { unit: 's', total: 600, showRate: false });
    ticker.advance(30_000);
    timed.update(30);
    expect(timed.describe(ticker.now())).toBe('steady load: 30 / 600 s (5.0 %), ETA 9 min 30 s');
  });

  it('shows every active task on one line, the newest first', () => {
    const { ticker, output, progress } = setUp(false);
    const runs = progress.task('HTTP comparison', { unit: 'runs', total: 36, rateWindowMs: 600_000 });
    const fill = progress.task('fill baseline', { unit: 'keys', total: 100_000 });
    ticker.advance(6000);
    runs.update(2);
    fill.update(12_000);
    ticker.advance(4000);
    expect(output.text).toBe(
      'progress: fill baseline: 12,000 / 100,000 keys (12.0 %), 1,200 keys/s, ETA 1 min 13 s | HTTP comparison: 2 / 36 runs (5.6 %), 12.0 runs/min, ETA 2 min 50 s\n',
    );
  });
});

it('a task whose caller prints its own result ends silently, unless it stopped early', () => {
  const { ticker, log, progress } = setUp(false);
  progress.task('quiet', { unit: 'keys', total: 10, summary: false }).end();
  expect(log.text).toBe('');
  const failing = progress.task('fill', { unit: 'keys', total: 10, summary: false });
  ticker.advance(2000);
  failing.update(4);
  failing.end('stopped early');
  failing.end(); // a second end() is ignored
  expect(log.text).toBe('fill: 4 keys in 2 s (2.0 keys/s); stopped early\n');
});

describe('on a terminal: one status line redrawn in place', () => {
  it('redraws only when the text changes, and keeps log lines above it', () => {
    const { ticker, output, log, progress } = setUp(true);
    const task = progress.task('fill', { unit: 'keys', total: 1000, showRate: false });
    ticker.advance(250);
    expect(output.text).toBe('\r\x1b[2Kfill: 0 / 1,000 keys (0.0 %), ETA ?');
    ticker.advance(500); // nothing changed: nothing written
    expect(output.text).toBe('\r\x1b[2Kfill: 0 / 1,000 keys (0.0 %), ETA ?');
    task.update(500);
    progress.log('a log line');
    // The status line is cleared, the log line goes to the log output, the status line comes back.
    expect(output.text).toBe('\r\x1b[2Kfill: 0 / 1,000 keys (0.0 %), ETA ?\r\x1b[2K\r\x1b[2Kfill: 500 / 1,000 keys (50.0 %), ETA 1 s');
    expect(log.text).toBe('a log line\n');
    task.end();
    expect(output.text.endsWith('\r\x1b[2K')).toBe(true); // cleared at the end, nothing left drawn
    expect(log.text).toBe('a log line\nfill: 500 keys in 1 s\n');
  });

  it('cuts the status line to the terminal width (119 columns when the terminal has no size)', () => {
    const narrow = setUp(true, 30);
    narrow.progress.task('a rather long task label', { unit: 'keys', total: 5_000_000 });
    narrow.ticker.advance(250);
    expect(narrow.output.text).toBe('\r\x1b[2K' + 'a rather long task label: 0 / 5,000,000 keys'.slice(0, 29));
    const sizeless = setUp(true, 0);
    sizeless.progress.task('x'.repeat(200), { unit: 'keys', total: 0 });
    sizeless.ticker.advance(250);
    expect(sizeless.output.text).toBe('\r\x1b[2K' + 'x'.repeat(119));
  });
});

it('formats durations and rates for people', () => {
  expect([0, 42.4, 65, 3599, 3720, 86_400].map(formatDuration)).toEqual(['0 s', '42 s', '1 min 05 s', '59 min 59 s', '1 h 02 min', '24 h 00 min']);
  expect(formatRate(0.075, 'runs')).toBe('4.5 runs/min');
  expect(formatRate(61_234.4, 'keys')).toBe('61,234 keys/s');
  expect(formatRate(12.34, 'keys')).toBe('12.3 keys/s');
  expect(formatRate(null, 'keys')).toBe('? keys/s');
});
