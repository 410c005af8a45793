/**
 * Issue 17's engine side: entry versions (compare-and-set), metadata kept
 * beside a value, and getEntry, which reads them with the remaining TTL.
 */
import { SlabLruCache, checkInvariants } from '@slabcache/engine';

const make = (extra: object = {}): SlabLruCache =>
  new SlabLruCache({ maxKeys: 100, maxBytes: 1 << 20, pageBytes: 16384, maxValueBytes: 1000, versions: true, ...extra });

describe('versions, metadata, getEntry', () => {
  it('gives every set a new, growing version', () => {
    const cache = make();
    cache.set('a', '1');
    const a1 = cache.getEntry('a')!.version;
    cache.set('b', '1');
    cache.set('a', '2');
    const a2 = cache.getEntry('a')!.version;
    expect(a1).toBeGreaterThan(0);
    expect(a2).toBeGreaterThan(cache.getEntry('b')!.version);
    expect(a2).toBeGreaterThan(a1);
    checkInvariants(cache);
  });

  it('setIf stores only against the expected version (0: only if absent)', () => {
    const cache = make();
    const v1 = cache.setIf('k', 'first', 0);
    expect(v1).toBeGreaterThan(0);
    expect(cache.setIf('k', 'again', 0)).toBe(0);
    expect(cache.setIf('k', 'stale', v1 + 1)).toBe(0);
    const v2 = cache.setIf('k', 'second', v1);
    expect(v2).toBeGreaterThan(v1);
    expect(cache.get('k')).toBe('second');
    expect(cache.setIf('k', 'lost update', v1)).toBe(0);
    expect(cache.get('k')).toBe('second');
    expect(cache.stats()).toMatchObject({ cas_hits: 2, cas_badval: 3, cas_misses: 0 });
    expect(cache.setIf('absent', 'x', 5)).toBe(0);
    expect(cache.stats().cas_misses).toBe(1);
    checkInvariants(cache);
  });

  it('deleteIf deletes only the expected version', () => {
    const cache = make();
    const v = cache.setIf('k', 'v', 0);
    expect(cache.deleteIf('k', v + 1)).toBe(false);
    expect(cache.has('k')).toBe(true);
    expect(cache.deleteIf('k', v)).toBe(true);
    expect(cache.has('k')).toBe(false);
    expect(cache.deleteIf('k', v)).toBe(false);
  });

  it('refuses setIf without versions, and bad expected versions', () => {
    const plain = new SlabLruCache({ maxKeys: 10, maxBytes: 1 << 20, pageBytes: 16384, maxValueBytes: 100 });
    expect(() => plain.setIf('k', 'v', 0)).toThrow(/versions option/);
    expect(plain.getEntry('k')).toBeUndefined();
    plain.set('k', 'v');
    expect(plain.getEntry('k')!.version).toBe(0);
    expect(() => make().setIf('k', 'v', -1)).toThrow(TypeError);
    expect(() => make().setIf('k', 'v', 1.5)).toThrow(TypeError);
  });

  it('keeps metadata beside the value, apart from it, through overwrites and page moves', () => {
    const cache = make({ maxKeys: 2000 });
    cache.set('doc', '{"a":1}', { meta: 'application/json' });
    cache.set('raw', Buffer.from([0, 1, 2]));
    expect(cache.get('doc')).toBe('{"a":1}');
    expect(cache.getEntry('doc')).toMatchObject({ value: '{"a":1}', meta: 'application/json', remainingTTL: Infinity });
    expect(cache.getEntryBytes('raw')).toMatchObject({ value: Buffer.from([0, 1, 2]), meta: undefined });
    cache.set('doc', 'plain');
    expect(cache.getEntry('doc')!.meta).toBeUndefined();
    expect(() => cache.set('x', 'v', { meta: 'é'.repeat(128) })).toThrow(/over the limit of 255/);
    expect(() => cache.set('x', 'v', { meta: 5 as unknown as string })).toThrow(TypeError);
    expect(cache.has('x')).toBe(false);
    // Fill and churn so pages move between classes: metadata moves with its entry.
    for (let i = 0; i < 1500; i++) cache.set(`m${i}`, 'x'.repeat(i % 300), { meta: `type/${i}` });
    for (let i = 0; i < 1500; i += 3) cache.delete(`m${i}`);
    for (let i = 0; i < 1500; i++) cache.set(`n${i}`, 'y'.repeat(600), { meta: `n/${i}` });
    checkInvariants(cache);
    for (let i = 1; i < 1500; i += 3) {
      const entry = cache.getEntry(`m${i}`, { peek: true });
      if (entry) expect(entry).toMatchObject({ value: 'x'.repeat(i % 300), meta: `type/${i}` });
    }
  });

  it('getEntry with peek counts no hit and keeps recency; without, it counts and bumps', () => {
    const cache = make();
    cache.set('a', '1');
    cache.set('b', '2');
    cache.getEntry('a', { peek: true });
    expect([...cache.keys()]).toEqual(['b', 'a']);
    expect(cache.stats().get_hits).toBe(0);
    cache.getEntry('a');
    expect([...cache.keys()]).toEqual(['a', 'b']);
    expect(cache.stats().get_hits).toBe(1);
  });

  it('reports the remaining TTL', () => {
    const realNow = Date.now;
    let now = 5_000_000;
    Date.now = () => now;
    try {
      const cache = make();
      cache.set('k', 'v', { ttl: 1000 });
      now += 400;
      expect(cache.getEntry('k')!.remainingTTL).toBe(600);
    } finally {
      Date.now = realNow;
    }
  });
});
