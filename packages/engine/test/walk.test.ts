/**
 * The snapshot walk (walker.ts): visits entries from the oldest to the newest,
 * one step at a time, while the cache keeps changing; what changes behind the
 * cursor comes back as tombstones, updates and clears; the cursor never breaks
 * the cache's invariants or its eviction order.
 */
import { SlabLruCache, checkInvariants } from '@slabcache/engine';
import type { WalkEntry, WalkSink } from '../src/walker';

const make = (maxKeys = 100, policy: 'lru' | 'sieve' = 'lru'): SlabLruCache =>
  new SlabLruCache({ maxKeys, maxBytes: 1 << 20, pageBytes: 16384, maxValueBytes: 1000, policy });

/** A sink that writes what it hears as readable lines. */
class Transcript implements WalkSink {
  readonly lines: string[] = [];
  finished: { hand: string | undefined; items: number } | undefined;
  entry(arena: Buffer, e: WalkEntry, update: boolean): void {
    const key = arena.toString('utf8', e.keyStart, e.keyStart + e.keyLength);
    const value = arena.toString('utf8', e.valueStart, e.valueStart + e.valueLength);
    this.lines.push(`${update ? 'update' : 'entry'} ${key}=${value}${e.visited ? ' visited' : ''}`);
  }
  tombstone(bytes: Buffer, start: number, length: number): void {
    this.lines.push(`tombstone ${bytes.toString('utf8', start, start + length)}`);
  }
  clear(): void {
    this.lines.push('clear');
  }
  finish(arena: Buffer, hand: { keyStart: number; keyLength: number } | undefined, _lastVersion: number, items: number): void {
    this.finished = { hand: hand && arena.toString('utf8', hand.keyStart, hand.keyStart + hand.keyLength), items };
  }
}

function walkAll(cache: SlabLruCache, step: number, between?: (round: number) => void): Transcript {
  const sink = new Transcript();
  cache.beginWalk();
  let round = 0;
  try {
    while (cache.walkStep(step, sink)) {
      checkInvariants(cache);
      between?.(round++);
    }
  } finally {
    cache.endWalk();
  }
  checkInvariants(cache);
  return sink;
}

describe('snapshot walk', () => {
  it('visits every entry from least to most recent, then reports the instant', () => {
    const cache = make();
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, `v${i}`);
    cache.get('k3');
    const t = walkAll(cache, 3);
    expect(t.lines).toEqual([...cache.entries()].reverse().map(([k, v]) => `entry ${String(k)}=${String(v)}`));
    expect(t.finished).toEqual({ hand: undefined, items: 10 });
  });

  it('LRU: entries used behind the cursor are written again; entries removed behind it get a tombstone', () => {
    const cache = make(12);
    for (let i = 0; i < 12; i++) cache.set(`k${i}`, `v${i}`);
    const t = walkAll(cache, 2, (round) => {
      if (round === 0) {
        cache.get('k0'); // written in step 1: moves ahead of the cursor, written again later
        cache.delete('k1'); // written in step 1: tombstone
        cache.delete('k11'); // not yet written: tombstone too (harmless), never an entry
        cache.set('new', 'n'); // ahead of the cursor: written later
      }
    });
    expect(t.lines.slice(0, 4)).toEqual(['entry k0=v0', 'entry k1=v1', 'tombstone k1', 'tombstone k11']);
    expect(t.lines.filter((l) => l === 'entry k0=v0')).toHaveLength(2);
    expect(t.lines).toContain('entry new=n');
    expect(t.lines).not.toContain('entry k11=v11');
    // The last record of each live key is in the cache's order, least recent first.
    const last = new Map<string, number>();
    t.lines.forEach((line, i) => {
      if (line.startsWith('entry ')) last.set(line.slice(6).split('=')[0]!, i);
    });
    const order = [...last.entries()].filter(([k]) => cache.has(k)).sort((a, b) => a[1] - b[1]).map(([k]) => k);
    expect(order).toEqual([...cache.rkeys()]);
  });

  it('SIEVE: a hit or a set in place behind the cursor comes back as an update; the hand is reported', () => {
    const cache = make(6, 'sieve');
    for (let i = 0; i < 6; i++) cache.set(`k${i}`, `v${i}`);
    const t = walkAll(cache, 2, (round) => {
      if (round === 0) {
        cache.get('k0'); // visited bit set behind the cursor
        cache.set('k1', 'w1'); // same size class: in place
      }
      if (round === 1) cache.set('k6', 'v6'); // full: the hand evicts k2 (k0 visited, passed over)
    });
    expect(t.lines.slice(0, 4)).toEqual(['entry k0=v0', 'entry k1=v1', 'update k0=v0 visited', 'update k1=w1 visited']);
    expect(t.lines).toContain('tombstone k2');
    // The hand passed k0 (clearing its bit: another update) and stopped past k2.
    expect(t.lines).toContain('update k0=v0');
    expect(t.finished?.hand).toBe('k3');
    expect([...cache.keys()]).not.toContain('k2');
  });

  it('a clear is recorded and the walk goes on over what is set after it', () => {
    const cache = make(10);
    for (let i = 0; i < 4; i++) cache.set(`k${i}`, `v${i}`);
    const t = walkAll(cache, 1, (round) => {
      if (round === 1) {
        cache.clear();
        cache.set('after', 'a');
      }
    });
    expect(t.lines).toEqual(['entry k0=v0', 'entry k1=v1', 'clear', 'entry after=a']);
    expect(t.finished?.items).toBe(1);
  });

  it('eviction skips the cursor; a second walk is refused while one runs', () => {
    const cache = make(3);
    cache.set('a', '1').set('b', '2').set('c', '3');
    cache.beginWalk();
    cache.set('d', '4'); // evicts 'a', the least recent entry, not the cursor at the tail
    expect([...cache.keys()]).toEqual(['d', 'c', 'b']);
    checkInvariants(cache);
    expect(() => cache.beginWalk()).toThrow(/already running/);
    cache.endWalk();
    cache.beginWalk();
    cache.endWalk();
    checkInvariants(cache);
  });
});
