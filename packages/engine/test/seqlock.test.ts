/**
 * The striped sequence locks of shared SIEVE caches (seqlock.ts), step by
 * step: a reader's bit write is refused once a writer touched what it read,
 * and a writer about to carve a page waits for a bit write already under way.
 */
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { LockTimeoutError, SlabLruCache } from '@slabcache/engine';
import { geometryOf } from '../src/layout';
import { StripedSeqlock, STRIPE_SLOTS, stripeCount } from '../src/seqlock';
import { firstMessage, startTsWorker } from './support/threads';

const STRIPES = 4;

function sharedPair(timeoutMs = 5000): { reader: StripedSeqlock; writer: StripedSeqlock; buffer: SharedArrayBuffer } {
  const buffer = new SharedArrayBuffer(StripedSeqlock.bytesFor(STRIPES));
  const reader = new StripedSeqlock(buffer, STRIPES, timeoutMs);
  const writer = new StripedSeqlock(buffer, STRIPES, timeoutMs);
  reader.claimHintSlot();
  return { reader, writer, buffer };
}

describe('hint writes (a lock-free hit setting its bits)', () => {
  it('are written when nothing changed since the read began', () => {
    const { reader } = sharedPair();
    const bytes = new Uint8Array(new SharedArrayBuffer(16));
    bytes[3] = 1;
    const epoch = reader.beginEpoch();
    const seq = reader.begin(1);
    expect(reader.orIfStillValid(1, seq, 1, seq, epoch, bytes, 3, 32)).toBe(true);
    expect(bytes[3]).toBe(33);
  });

  it.each([
    ['its stripe', (w: StripedSeqlock) => w.touch(1 * STRIPE_SLOTS + 5)],
    ["its probe's second stripe", (w: StripedSeqlock) => w.touch(2 * STRIPE_SLOTS)],
    ['the whole cache (clear)', (w: StripedSeqlock) => w.touchAll()],
  ])('are refused once a writer touched %s, during its operation and after', (_what, touch) => {
    for (const publishFirst of [false, true]) {
      const { reader, writer } = sharedPair();
      const bytes = new Uint8Array(new SharedArrayBuffer(16));
      const epoch = reader.beginEpoch();
      const seq = reader.begin(1);
      const seq2 = reader.begin(2);
      touch(writer);
      if (publishFirst) writer.publish();
      expect(reader.orIfStillValid(1, seq, 2, seq2, epoch, bytes, 3, 32)).toBe(false);
      expect(bytes[3]).toBe(0);
    }
  });

  it('are untouched by a writer of another stripe', () => {
    const { reader, writer } = sharedPair();
    const bytes = new Uint8Array(new SharedArrayBuffer(16));
    const epoch = reader.beginEpoch();
    const seq = reader.begin(1);
    writer.touch(3 * STRIPE_SLOTS);
    expect(reader.orIfStillValid(1, seq, 1, seq, epoch, bytes, 3, 32)).toBe(true);
    expect(bytes[3]).toBe(32);
  });
});

describe('a writer waiting for hint writes', () => {
  it('returns at once when no reader is writing one', () => {
    const { writer } = sharedPair(1);
    for (let i = 0; i < 3; i++) writer.waitForHintWriters();
  });

  it('is held by an announced write; a reader that died in it gives a LockTimeoutError naming its thread', () => {
    const { reader, writer } = sharedPair(20);
    reader.enterHintWrite();
    let error: unknown;
    try {
      writer.waitForHintWriters();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect((error as LockTimeoutError).ownerThreadId).toBe(threadId);
    expect((error as Error).message).toMatch(/^hint-writer slot not released within 20 ms \(held by thread \d+\)/);
    reader.leaveHintWrite();
    writer.waitForHintWriters();
  });

  it('waits for a reader in another thread that validated before the writer touched its stripe, so the bit lands before the page is reused', async () => {
    const { writer, buffer } = sharedPair();
    const page = new Uint8Array(new SharedArrayBuffer(64));
    const events = new Int32Array(new SharedArrayBuffer(8));
    const worker = startTsWorker(path.join(__dirname, 'support/hint-writer-worker.ts'), {
      buffer,
      stripes: STRIPES,
      page: page.buffer,
      events: events.buffer,
      pauseMs: 300,
    });
    const reply = firstMessage<{ valid: boolean }>(worker);
    // The reader has validated its read and announced its write; it has not written yet.
    while (Atomics.load(events, 0) === 0) Atomics.wait(events, 0, 0, 50);
    writer.touch(0); // the writer frees the entry (its stripe)...
    writer.waitForHintWriters(); // ...waits for writes under way...
    page.fill(0); // ...and carves the page into another class's chunks.
    Atomics.store(events, 1, 1);
    Atomics.notify(events, 1);
    expect(await reply).toEqual({ valid: true });
    await worker.terminate();
    // The bit went in before the carve, never into the new chunks.
    expect(page.every((b) => b === 0)).toBe(true);
  });
});

describe('a shared SIEVE cache', () => {
  function sharedSieve(): { cache: SlabLruCache; reader: StripedSeqlock } {
    const cache = new SlabLruCache({ maxKeys: 100, maxBytes: 1 << 20, pageBytes: 16384, maxValueBytes: 1000, policy: 'sieve', lockTimeoutMs: 20 });
    // A reader over the cache's own stripes buffer, as an attached thread has.
    const reader = new StripedSeqlock(cache.handle.stripes, stripeCount(geometryOf(cache.options).indexSlots), 20);
    reader.claimHintSlot();
    return { cache, reader };
  }

  it('waits for hint writes before it cuts a page into chunks', () => {
    const { cache, reader } = sharedSieve();
    reader.enterHintWrite();
    expect(() => cache.set('a', 'first entry: takes a page')).toThrow(LockTimeoutError);
    reader.leaveHintWrite();
    cache.set('a', 'first entry: takes a page');
    expect(cache.get('a')).toBe('first entry: takes a page');
  });

  it('waits for hint writes before a snapshot walk starts, and starts none when one never ends', () => {
    const { cache, reader } = sharedSieve();
    cache.set('a', 'x');
    reader.enterHintWrite();
    expect(() => cache.beginWalk()).toThrow(LockTimeoutError);
    reader.leaveHintWrite();
    cache.beginWalk();
    cache.endWalk();
  });
});
